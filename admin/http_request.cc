// The metrics endpoint's request parsing and responses.
#include "admin/http_request.h"

#include "absl/strings/str_cat.h"

namespace ferry::admin {
namespace {

constexpr std::string_view kMetricsPath = "/metrics";

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Error";
}

const char* ErrorText(int status) {
  switch (status) {
    case 400:
      return "The request line is not valid HTTP/1.1.";
    case 404:
      return "Not found. Metrics are at /metrics.";
    case 405:
      return "Method not allowed. Use GET or HEAD.";
    case 408:
      return "The request head did not arrive in time.";
    case 431:
      return "The request head is too large.";
    case 503:
      return "Too many requests at once. Try again.";
    case 505:
      return "Only HTTP/1.0 and HTTP/1.1 are supported.";
  }
  return "Error.";
}

// Returns the response with a status line, the given header fields (each
// ending in CRLF), Content-Length and Connection: close. The body is sent
// only when `send_body` is true, as HEAD requires.
std::string BuildResponse(int status, std::string_view content_type,
                          std::string_view extra_fields,
                          const std::string& body, bool send_body) {
  // Debian's absl::StrCat does not take std::string_view.
  std::string response =
      absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n");
  response.append("Content-Type: ").append(content_type).append("\r\n");
  absl::StrAppend(&response, "Content-Length: ", body.size(), "\r\n");
  response.append(extra_fields).append("Connection: close\r\n\r\n");
  if (send_body) response += body;
  return response;
}

std::string TextResponse(int status, std::string_view extra_fields,
                         bool send_body) {
  return BuildResponse(status, "text/plain; charset=utf-8", extra_fields,
                       absl::StrCat(ErrorText(status), "\n"), send_body);
}

struct RequestLine {
  std::string_view method;
  std::string_view target;
  std::string_view version;
};

// Splits "METHOD SP TARGET SP VERSION"; returns false when it has another
// shape.
bool SplitRequestLine(std::string_view line, RequestLine* request) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t first = line.find(' ');
  if (first == std::string_view::npos || first == 0) return false;
  const size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos || second == first + 1) return false;
  if (line.find(' ', second + 1) != std::string_view::npos) return false;
  request->method = line.substr(0, first);
  request->target = line.substr(first + 1, second - first - 1);
  request->version = line.substr(second + 1);
  return !request->version.empty();
}

}  // namespace

HeadStatus CheckRequestHead(std::string_view received, size_t max_size) {
  const std::string_view window = received.substr(0, max_size);
  // An empty line is an LF right after another LF, with an optional CR
  // between them.
  for (size_t i = window.find('\n'); i != std::string_view::npos;
       i = window.find('\n', i + 1)) {
    if (i + 1 < window.size() && window[i + 1] == '\n') {
      return HeadStatus::kComplete;
    }
    if (i + 2 < window.size() && window[i + 1] == '\r' &&
        window[i + 2] == '\n') {
      return HeadStatus::kComplete;
    }
  }
  return received.size() >= max_size ? HeadStatus::kTooLarge
                                     : HeadStatus::kIncomplete;
}

std::string RespondToRequest(std::string_view head,
                             const std::function<std::string()>& render,
                             std::string_view content_type) {
  RequestLine request;
  if (!SplitRequestLine(head.substr(0, head.find('\n')), &request)) {
    return ErrorResponse(400);
  }
  if (request.version != "HTTP/1.1" && request.version != "HTTP/1.0") {
    return request.version.substr(0, 5) == "HTTP/" ? ErrorResponse(505)
                                                   : ErrorResponse(400);
  }
  const bool head_request = request.method == "HEAD";
  // The query string, if any, is ignored, as Prometheus sends none.
  const std::string_view path =
      request.target.substr(0, request.target.find('?'));
  if (path != kMetricsPath) return TextResponse(404, "", !head_request);
  if (request.method != "GET" && !head_request) {
    return TextResponse(405, "Allow: GET, HEAD\r\n", true);
  }
  return BuildResponse(200, content_type, "Cache-Control: no-store\r\n",
                       render(), !head_request);
}

std::string ErrorResponse(int status) { return TextResponse(status, "", true); }

}  // namespace ferry::admin
