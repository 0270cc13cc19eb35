#include "engine/server/route_policy.h"

namespace ferry::server {

using metrics::RecipientRejection;

RoutePolicy::Verdict RoutePolicy::Check(const smtp::Path& recipient) const {
  switch (routes_->Load()->Check(recipient.local_part, recipient.domain)) {
    case route::RecipientVerdict::kAccept:
      return Verdict::kAccept;
    case route::RecipientVerdict::kNoRoute:
      metrics_->recipients_rejected[RecipientRejection::kNoRoute].Add();
      return Verdict::kNoRoute;
    case route::RecipientVerdict::kUnknownRecipient:
      metrics_->recipients_rejected[RecipientRejection::kUnknownRecipient]
          .Add();
      return Verdict::kUnknownRecipient;
  }
  return Verdict::kNoRoute;
}

}  // namespace ferry::server
