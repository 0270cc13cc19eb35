// FieldPath: the path from the root Config message to one field, such as
// route[2].next_hop[0].port. Validation errors use it to name the field and
// to find the line where the configuration file sets it. A plain value type.
#ifndef FERRY_ENGINE_CONFIG_FIELD_PATH_H_
#define FERRY_ENGINE_CONFIG_FIELD_PATH_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"

namespace ferry::config {

class FieldPath {
 public:
  // An empty path into messages of type `root`.
  explicit FieldPath(const google::protobuf::Descriptor* root);

  // Returns this path extended by `field`. `index` is the element index for
  // a repeated field and -1 for a singular one.
  // REQUIRES: this path ends at a message (not a scalar) that has `field`.
  FieldPath Child(const google::protobuf::FieldDescriptor* field,
                  int index = -1) const;

  // Like Child(field, index) with the field found by name. Aborts the
  // process when the message has no such field, because names are fixed in
  // the code that calls this.
  FieldPath Child(absl::string_view name, int index = -1) const;

  // Returns the path in the form "route[2].next_hop[0].port".
  std::string ToString() const;

  // Returns the location of the deepest part of the path that `tree`
  // records, so a field left at its default is reported at the line of the
  // message that contains it. Returns line -1 when no part is recorded.
  google::protobuf::TextFormat::ParseLocation Locate(
      const google::protobuf::TextFormat::ParseInfoTree* tree) const;

 private:
  using Part = std::pair<const google::protobuf::FieldDescriptor*, int>;

  const google::protobuf::Descriptor* type_;  // message at the end, or null
  std::vector<Part> parts_;
};

}  // namespace ferry::config

#endif  // FERRY_ENGINE_CONFIG_FIELD_PATH_H_
