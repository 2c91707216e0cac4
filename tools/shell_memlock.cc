// The shell's default pool under RLIMIT_MEMLOCK. See shell_memlock.h.
#include "shell_memlock.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ringdb::shell {
namespace {

constexpr int kCapIpcLock = 14;  // linux/capability.h
constexpr uint64_t kGranule = 64 << 10;
constexpr uint64_t kMinPool = 1 << 20;  // 16 pages of the largest page size

// Whether CAP_IPC_LOCK is in the effective set (/proc/self/status).
bool HasIpcLock() {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return false;
  char line[256];
  bool has = false;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long long caps = 0;
    if (std::sscanf(line, "CapEff: %llx", &caps) == 1) {
      has = (caps >> kCapIpcLock) & 1;
      break;
    }
  }
  std::fclose(f);
  return has;
}

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

uint64_t LockableBytes() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return kUnlimitedLock;
  if (HasIpcLock()) return kUnlimitedLock;
  return rl.rlim_cur;
}

size_t ChooseDefaultPool(uint64_t lockable, size_t engine_default, std::string* note) {
  note->clear();
  // Headroom: the rest of what the process locks (small) stays possible.
  const uint64_t headroom = std::min<uint64_t>(1 << 20, lockable / 8);
  if (lockable == kUnlimitedLock || lockable >= engine_default + headroom) return engine_default;
  const uint64_t pool = (lockable - headroom) / kGranule * kGranule;
  if (pool < kMinPool) return 0;
  *note = "pool " + Mib(pool) + ": what RLIMIT_MEMLOCK (" + Mib(lockable) +
          ") lets this process lock, instead of the default " + Mib(engine_default) +
          " (--pool SIZE to choose)";
  return static_cast<size_t>(pool);
}

}  // namespace ringdb::shell
