#include "engine/config/field_path.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace ferry::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Returns where `tree` records the index-th value of `field`. A repeated
// scalar written in list form ("smtp_listen: [\"a\", \"b\"]") is recorded
// once for the whole list, so a missing index falls back to the nearest
// earlier one.
TextFormat::ParseLocation LocateValue(const TextFormat::ParseInfoTree& tree,
                                      const FieldDescriptor* field, int index) {
  if (!field->is_repeated()) return tree.GetLocation(field, -1);
  for (int i = index; i >= 0; --i) {
    TextFormat::ParseLocation location = tree.GetLocation(field, i);
    if (location.line >= 0) return location;
  }
  return TextFormat::ParseLocation();
}

}  // namespace

FieldPath::FieldPath(const google::protobuf::Descriptor* root) : type_(root) {}

FieldPath FieldPath::Child(const FieldDescriptor* field, int index) const {
  FieldPath child = *this;
  child.parts_.emplace_back(field, field->is_repeated() ? index : -1);
  child.type_ = field->message_type();
  return child;
}

FieldPath FieldPath::Child(absl::string_view name, int index) const {
  const FieldDescriptor* field =
      type_ == nullptr ? nullptr : type_->FindFieldByName(std::string(name));
  if (field == nullptr) {
    std::fprintf(stderr, "FieldPath: %s has no field %.*s\n",
                 ToString().c_str(), static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  return Child(field, index);
}

std::string FieldPath::ToString() const {
  std::string out;
  for (const Part& part : parts_) {
    if (!out.empty()) out += '.';
    absl::StrAppend(&out, part.first->name());
    if (part.second >= 0) absl::StrAppend(&out, "[", part.second, "]");
  }
  return out;
}

TextFormat::ParseLocation FieldPath::Locate(
    const TextFormat::ParseInfoTree* tree) const {
  TextFormat::ParseLocation best;
  for (const Part& part : parts_) {
    // A repeated field named without an index (a path to the whole list)
    // has no single location of its own.
    if (tree == nullptr || (part.first->is_repeated() && part.second < 0)) {
      break;
    }
    TextFormat::ParseLocation location =
        LocateValue(*tree, part.first, part.second);
    if (location.line >= 0) best = location;
    if (part.first->message_type() == nullptr) break;
    tree = tree->GetTreeForNested(part.first, part.second);
  }
  return best;
}

}  // namespace ferry::config
