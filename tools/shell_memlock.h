// The shell's default buffer pool, sized to what the process may lock.
//
// The engine locks its pool in memory (mlock) and registers it with
// io_uring; both count against RLIMIT_MEMLOCK, which is 8 MiB for a normal
// user on most distributions, so the engine's 64 MiB default cannot be
// locked there and the engine falls back and says so. When the user gave
// no --pool, the shell picks a pool that can be locked instead, and says so
// in `stats` and in the interactive banner.
//
// Plain functions; call from the main thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringdb::shell {

inline constexpr uint64_t kUnlimitedLock = UINT64_MAX;

// Bytes this process may lock: RLIMIT_MEMLOCK's soft limit, or
// kUnlimitedLock when it is unlimited or the process has CAP_IPC_LOCK (as
// root usually has).
uint64_t LockableBytes();

// The default pool for a process that may lock `lockable` bytes when the
// engine's default is `engine_default`: the default when it fits (with
// room to spare), else the lockable bytes less a little headroom, in whole
// 64 KiB, and a note saying so in *note. 0 (and no note) when even the
// smallest pool would not fit: the engine's default then stands.
size_t ChooseDefaultPool(uint64_t lockable, size_t engine_default, std::string* note);

}  // namespace ringdb::shell
