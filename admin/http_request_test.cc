#include "admin/http_request.h"

#include <string>

#include "gtest/gtest.h"

namespace ferry::admin {
namespace {

constexpr char kType[] = "text/plain; version=0.0.4";

std::string Respond(const std::string& head, int* renders = nullptr) {
  return RespondToRequest(
      head,
      [renders] {
        if (renders != nullptr) ++*renders;
        return std::string("m 1\n");
      },
      kType);
}

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

TEST(RespondToRequestTest, GetMetricsReturnsBody) {
  int renders = 0;
  const std::string response =
      Respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &renders);
  EXPECT_EQ(StatusLine(response), "HTTP/1.1 200 OK");
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4\r\n"),
            std::string::npos);
  EXPECT_NE(response.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(Body(response), "m 1\n");
  EXPECT_EQ(renders, 1);
}

TEST(RespondToRequestTest, HeadHasLengthButNoBody) {
  const std::string response = Respond("HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusLine(response), "HTTP/1.1 200 OK");
  EXPECT_NE(response.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(Body(response), "");
}

TEST(RespondToRequestTest, QueryStringIgnored) {
  EXPECT_EQ(StatusLine(Respond("GET /metrics?x=1 HTTP/1.0\r\n\r\n")),
            "HTTP/1.1 200 OK");
}

TEST(RespondToRequestTest, StatusForEachRequest) {
  struct Case {
    const char* head;
    const char* status_line;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"GET /metrics/ HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"POST /other HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"POST /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"DELETE /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"GET /metrics HTTP/2.0\r\n\r\n",
       "HTTP/1.1 505 HTTP Version Not Supported"},
      {"GET /metrics\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET  /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /metrics HTTP/1.1 x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /metrics FTP\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /metrics HTTP/1.1\n\n", "HTTP/1.1 200 OK"},
  };
  for (const Case& c : cases) {
    int renders = 0;
    const std::string response = Respond(c.head, &renders);
    EXPECT_EQ(StatusLine(response), c.status_line) << c.head;
    const bool ok = std::string(c.status_line) == "HTTP/1.1 200 OK";
    EXPECT_EQ(renders, ok ? 1 : 0) << c.head;
  }
}

TEST(RespondToRequestTest, MethodNotAllowedListsAllowed) {
  const std::string response = Respond("PUT /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(response.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST(RespondToRequestTest, NotFoundNamesMetricsPath) {
  EXPECT_NE(Body(Respond("GET /x HTTP/1.1\r\n\r\n")).find("/metrics"),
            std::string::npos);
}

TEST(ErrorResponseTest, LengthMatchesBody) {
  const std::string response = ErrorResponse(431);
  EXPECT_EQ(StatusLine(response),
            "HTTP/1.1 431 Request Header Fields Too Large");
  const std::string body = Body(response);
  EXPECT_NE(response.find("Content-Length: " + std::to_string(body.size())),
            std::string::npos);
}

TEST(CheckRequestHeadTest, Cases) {
  struct Case {
    const char* received;
    size_t max_size;
    HeadStatus status;
  };
  const Case cases[] = {
      {"", 100, HeadStatus::kIncomplete},
      {"GET / HTTP/1.1\r\n", 100, HeadStatus::kIncomplete},
      {"GET / HTTP/1.1\r\nHost: x\r\n", 100, HeadStatus::kIncomplete},
      {"GET / HTTP/1.1\r\n\r\n", 100, HeadStatus::kComplete},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 100, HeadStatus::kComplete},
      {"GET / HTTP/1.1\n\n", 100, HeadStatus::kComplete},
      {"GET / HTTP/1.1\r\n\r", 100, HeadStatus::kIncomplete},
      {"GET / HTTP/1.1\r\nHost: xxxxxxxx", 20, HeadStatus::kTooLarge},
      {"GET / HTTP/1.1\r\n\r\n", 10, HeadStatus::kTooLarge},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CheckRequestHead(c.received, c.max_size), c.status) << c.received;
  }
}

}  // namespace
}  // namespace ferry::admin
