#include "engine/server/route_policy.h"

namespace ferry::server {

RoutePolicy::Verdict RoutePolicy::Check(const smtp::Path& recipient) const {
  switch (routes_->Load()->Check(recipient.local_part, recipient.domain)) {
    case route::RecipientVerdict::kAccept:
      return Verdict::kAccept;
    case route::RecipientVerdict::kNoRoute:
      return Verdict::kNoRoute;
    case route::RecipientVerdict::kUnknownRecipient:
      return Verdict::kUnknownRecipient;
  }
  return Verdict::kNoRoute;
}

}  // namespace ferry::server
