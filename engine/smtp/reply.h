// Reply: one SMTP reply (RFC 5321 section 4.2) with its enhanced status code
// (RFC 3463). A plain value type: the server session sends it to clients,
// and the client session keeps each reply it receives from a next hop.
#ifndef FERRY_ENGINE_SMTP_REPLY_H_
#define FERRY_ENGINE_SMTP_REPLY_H_

#include <string>
#include <vector>

namespace ferry::smtp {

struct Reply {
  int code = 0;                    // three digits, 200..599
  std::string enhanced;            // "2.1.0"; empty when the peer sent none
  std::vector<std::string> lines;  // text after the code (and enhanced code)

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500 && code < 600; }

  // Returns the reply in wire form: every line "CODE-ENH TEXT\r\n", the last
  // with a space after the code. A reply with no lines gets one empty line.
  std::string Format() const;

  // Returns "CODE ENH first line" on one line, for logs and DSNs.
  std::string Summary() const;
};

// Returns a one-line reply.
Reply MakeReply(int code, std::string enhanced, std::string text);

}  // namespace ferry::smtp

#endif  // FERRY_ENGINE_SMTP_REPLY_H_
