#include "engine/server/etrn_starter.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "engine/base/log.h"
#include "engine/server/queue_control.h"
#include "engine/server/queue_query.h"

namespace ferry::server {

EtrnStarter::Result EtrnStarter::StartQueue(const smtp::EtrnNode& node,
                                            std::string_view client_ip) {
  const std::shared_ptr<const route::RouteTable> table =
      context_->routes->Load();
  Result result = Result::kStarted;
  if (!table->AllowsEtrn(node.name, client_ip)) {
    result = Result::kNotAllowed;
  } else if (context_->stopping) {
    result = Result::kUnavailable;
  } else {
    QueueFilter filter;
    filter.domains.push_back(node.name);
    if (node.kind == smtp::EtrnNode::Kind::kSubdomains) {
      filter.domains.push_back(absl::StrCat("*.", node.name));
    }
    filter.etrn_client = std::string(client_ip);
    if (!context_->queue_control->StartFlush(filter)) {
      result = Result::kUnavailable;
    }
  }
  const char* word = result == Result::kStarted      ? "started"
                     : result == Result::kNotAllowed ? "not_allowed"
                                                     : "unavailable";
  LogInfo(session_id_, "event=etrn node=", LogQuote(node.text),
          " client=", client_ip, " result=", word);
  return result;
}

}  // namespace ferry::server
