// The HTTP/1.1 side of the metrics endpoint, without sockets: finding the
// end of a request head, and the response to it. The endpoint serves
// GET and HEAD of /metrics and replies 404 or 405 to everything else.
// Every response closes the connection.
#ifndef FERRY_ADMIN_HTTP_REQUEST_H_
#define FERRY_ADMIN_HTTP_REQUEST_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ferry::admin {

enum class HeadStatus {
  kIncomplete,  // no empty line yet; read more
  kComplete,    // the head ends with an empty line
  kTooLarge,    // no empty line within the limit
};

// Reports whether `received` contains a whole request head (request line and
// header fields, ended by an empty line) within its first `max_size`
// octets. Lines may end in CRLF or, as RFC 9112 section 2.2 allows, LF.
HeadStatus CheckRequestHead(std::string_view received, size_t max_size);

// Returns the whole response (status line, header fields and body) to the
// request head `head`. `render` produces the body of /metrics and is
// called only for GET or HEAD of /metrics. `content_type` is that body's
// Content-Type.
std::string RespondToRequest(std::string_view head,
                             const std::function<std::string()>& render,
                             std::string_view content_type);

// Returns a response with `status` (such as 408, 431 or 503), its reason
// phrase and a one-line text body.
std::string ErrorResponse(int status);

}  // namespace ferry::admin

#endif  // FERRY_ADMIN_HTTP_REQUEST_H_
