// A writer in a child process that the test kills with SIGKILL: the way to
// crash the process for real (no destructor, no Close, no checkpoint) and
// then reopen the database in the test process.
//
// The child opens the database, runs write(db, i) for i = 0, 1, ... and
// reports each acknowledged i over a pipe; the parent kills it once it has
// seen `kill_after` acknowledgements (or the child ran out of writes), then
// collects every acknowledgement the child sent before it died.
//
// Use from a test process that has no other threads running (fork).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ringdb/db.h"

namespace ringdb::testing {

// write(db, i) returns false when there is nothing more to write (the
// child then waits to be killed); a failed write makes the child exit 2.
using ChildWrite = std::function<Status(DB* db, uint32_t i, bool* more)>;

inline std::vector<uint32_t> WriteInChildThenKill(const std::string& dir,
                                                  const Options& options,
                                                  uint32_t kill_after,
                                                  const ChildWrite& write) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::unique_ptr<DB> db;
    if (!DB::Open(options, dir, &db).ok()) ::_exit(3);
    for (uint32_t i = 0;; ++i) {
      bool more = true;
      if (!write(db.get(), i, &more).ok()) ::_exit(2);
      if (!more) break;
      if (::write(fds[1], &i, sizeof(i)) != sizeof(i)) ::_exit(4);
    }
    uint32_t done = UINT32_MAX;  // "no more writes"
    if (::write(fds[1], &done, sizeof(done)) != sizeof(done)) ::_exit(4);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  std::vector<uint32_t> acked;
  bool killed = false;
  for (;;) {
    uint32_t i;
    ssize_t n = ::read(fds[0], &i, sizeof(i));
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof(i)) break;  // the child is gone
    if (i == UINT32_MAX || acked.size() + 1 >= kill_after) {
      if (i != UINT32_MAX) acked.push_back(i);
      ::kill(pid, SIGKILL);
      killed = true;
      continue;  // drain what it sent before it died
    }
    acked.push_back(i);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child ended on its own: status " << status
      << " (exit 2: a write failed, 3: Open failed)";
  return acked;
}

}  // namespace ringdb::testing
