// NewEvictionPolicy and EvictionPolicyNames: the built-in policies by name.
//
// Thread-safety: both functions may be called from any thread.
#include <string_view>

#include "bufferpool/eviction/policy_util.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {

namespace {

struct PolicyEntry {
  const char* name;
  std::unique_ptr<EvictionPolicy> (*make)();
};

std::unique_ptr<EvictionPolicy> MakeMidpoint() { return NewMidpointPolicy(MidpointOptions()); }

constexpr PolicyEntry kPolicies[] = {
    {"lru", &NewLruPolicy},     {"clock", &NewClockPolicy},   {"midpoint", &MakeMidpoint},
    {"sieve", &NewSievePolicy}, {"s3fifo", &NewS3FifoPolicy},
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewEvictionPolicy(std::string_view name) {
  for (const PolicyEntry& entry : kPolicies) {
    if (name == entry.name) return entry.make();
  }
  return nullptr;
}

std::vector<std::string> EvictionPolicyNames() {
  std::vector<std::string> names;
  for (const PolicyEntry& entry : kPolicies) names.emplace_back(entry.name);
  return names;
}

}  // namespace ringdb
