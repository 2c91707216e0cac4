// A real full file system (issue 17): a 24 MiB tmpfs that a child process
// fills with synced and non-synced puts until a write fails with NoSpace.
// While it is full, every acknowledged key must read back, Verify must pass
// and a scan must see every key. Then the file system grows (mount -o
// remount,size=64m) and writes come back without a reopen, through Resume()
// or the auto-resume thread; the child writes more, is killed with SIGKILL,
// and the reopened database must hold every acknowledged write.
//
// Needs root (mount); skips, saying why, where mounting is not permitted.
// The tmpfs is always unmounted in TearDown. The figures are printed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "ringdb/db.h"
#include "tests/util/tmpfs_mount.h"

namespace ringdb {
namespace db_full_disk_test {

// Child -> parent messages: {tag, value}.
enum Tag : uint32_t {
  kAck = 1,          // value: key index acknowledged
  kFirstNoSpace,     // 1 when the first failed put was NoSpace
  kAckedWhenFull,    // acknowledged puts when the disk filled
  kRefusedWhileFull, // of 10 later puts, how many were refused
  kReadableWhileFull,
  kVerifyWhileFull,  // 1 when Verify passed
  kScannedWhileFull, // keys a full scan saw
  kGrown,            // 1 when the remount succeeded
  kResumed,          // 1 when writes were accepted again without reopen
  kLostAfterResume,  // acknowledged keys not read back after resuming
  kDone,
};
struct Message {
  uint32_t tag;
  uint32_t value;
};

struct Params {
  bool auto_resume;
  bool reserve;  // default reserved_disk_bytes, else 0 (the disk really fills)
};

std::string Key(uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08u", i);
  return buf;
}

std::string Value(uint32_t i) {
  return std::string(300 + i % 200, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

class FullDiskTest : public ::testing::TestWithParam<Params> {
 protected:
  void SetUp() override {
    std::string why;
    mnt_ = test::TmpfsMount::Create("fulldisk", "24m", &why);
    if (mnt_ == nullptr) GTEST_SKIP() << why;
    dir_ = mnt_->path() + "/db";
    options_.buffer_pool_bytes = 1 << 20;
    options_.lock_pool_memory = false;
    options_.checkpoint_log_bytes = 2 << 20;
    options_.auto_resume_interval_ms = GetParam().auto_resume ? 10 : 0;
    if (!GetParam().reserve) options_.reserved_disk_bytes = 0;
    options_.info_log = [](std::string_view) {};
  }
  void TearDown() override {
    mnt_.reset();  // unmounts
  }

  // The child's whole run; reports over `fd`, then waits to be killed.
  [[noreturn]] void Child(int fd) {
    auto send = [&](uint32_t tag, uint32_t value) {
      Message m{tag, value};
      if (::write(fd, &m, sizeof(m)) != sizeof(m)) ::_exit(4);
    };
    std::unique_ptr<DB> db;
    if (!DB::Open(options_, dir_, &db).ok()) ::_exit(3);
    uint32_t acked = 0;
    Status first;
    for (uint32_t i = 0; i < 2000000; i++) {
      WriteOptions wo;
      wo.sync = i % 2 == 0;
      first = db->Put(wo, Key(i), Value(i));
      if (!first.ok()) break;
      send(kAck, i);
      acked = i + 1;
    }
    send(kFirstNoSpace, first.IsNoSpace() ? 1 : 0);
    send(kAckedWhenFull, acked);
    uint32_t refused = 0;
    for (uint32_t i = 0; i < 10; i++) {
      if (!db->Put(WriteOptions(), "more" + std::to_string(i), "x").ok()) refused++;
    }
    send(kRefusedWhileFull, refused);
    uint32_t readable = 0;
    std::string v;
    for (uint32_t i = 0; i < acked; i++) {
      if (db->Get(ReadOptions(), Key(i), &v).ok() && v == Value(i)) readable++;
    }
    send(kReadableWhileFull, readable);
    send(kVerifyWhileFull, db->Verify(nullptr).ok() ? 1 : 0);
    uint32_t scanned = 0;
    {
      std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
      for (it->SeekToFirst(); it->Valid(); it->Next()) scanned++;
      if (!it->status().ok()) scanned = 0;
    }
    send(kScannedWhileFull, scanned);
    bool grown = mnt_->Resize("64m");
    send(kGrown, grown ? 1 : 0);
    bool resumed = false;
    if (GetParam().auto_resume) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!(resumed = db->Put(WriteOptions(), "probe", "auto").ok()) &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    } else {
      resumed = db->Resume().ok() && db->Put(WriteOptions(), "probe", "manual").ok();
    }
    send(kResumed, resumed ? 1 : 0);
    uint32_t lost = 0;
    for (uint32_t i = 0; i < acked; i++) {
      if (!db->Get(ReadOptions(), Key(i), &v).ok() || v != Value(i)) lost++;
    }
    send(kLostAfterResume, lost);
    for (uint32_t i = acked + 1; resumed && i < acked + 3001; i++) {
      WriteOptions wo;
      wo.sync = i % 2 == 0;
      if (!db->Put(wo, Key(i), Value(i)).ok()) break;
      send(kAck, i);
    }
    send(kDone, 0);
    for (;;) ::pause();
  }

  std::unique_ptr<test::TmpfsMount> mnt_;
  std::string dir_;
  Options options_;
};

TEST_P(FullDiskTest, FillReadWhileFullGrowResumeCrashReopen) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    Child(fds[1]);
  }
  ::close(fds[1]);
  std::vector<uint32_t> acked;
  std::map<uint32_t, uint32_t> figures;
  bool done = false;
  for (;;) {
    Message m;
    ssize_t n = ::read(fds[0], &m, sizeof(m));
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof(m)) break;
    if (m.tag == kAck) {
      acked.push_back(m.value);
    } else if (m.tag == kDone) {
      done = true;
      ::kill(pid, SIGKILL);
    } else {
      figures[m.tag] = m.value;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(done) << "the child ended early: status " << status
                    << " (exit 3: Open failed, 4: pipe)";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  std::unique_ptr<DB> db;
  Options reopen = options_;
  reopen.auto_resume_interval_ms = 0;
  Status s = DB::Open(reopen, dir_, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  uint32_t lost_after_crash = 0;
  std::string v;
  for (uint32_t i : acked) {
    if (!db->Get(ReadOptions(), Key(i), &v).ok() || v != Value(i)) lost_after_crash++;
  }
  EXPECT_TRUE(db->Verify(nullptr).ok());
  EXPECT_TRUE(db->Close().ok());

  const uint32_t full = figures[kAckedWhenFull];
  std::printf("full disk (%s, %s): acknowledged when full %u, refused while full %u/10, "
              "readable while full %u, verify while full %s, scanned while full %u, "
              "resumed %s, lost after resume %u, acknowledged in all %zu, lost after "
              "kill -9 and reopen %u\n",
              GetParam().auto_resume ? "auto-resume" : "Resume()",
              GetParam().reserve ? "default reserve" : "no reserve", full,
              figures[kRefusedWhileFull], figures[kReadableWhileFull],
              figures[kVerifyWhileFull] ? "ok" : "FAILED", figures[kScannedWhileFull],
              figures[kResumed] ? "yes" : "NO", figures[kLostAfterResume], acked.size(),
              lost_after_crash);
  EXPECT_GT(full, 1000u);
  EXPECT_EQ(figures[kFirstNoSpace], 1u);
  EXPECT_EQ(figures[kRefusedWhileFull], 10u);
  EXPECT_EQ(figures[kReadableWhileFull], full);
  EXPECT_EQ(figures[kVerifyWhileFull], 1u);
  EXPECT_GE(figures[kScannedWhileFull], full);
  EXPECT_EQ(figures[kGrown], 1u);
  EXPECT_EQ(figures[kResumed], 1u);
  EXPECT_EQ(figures[kLostAfterResume], 0u);
  EXPECT_GT(acked.size(), static_cast<size_t>(full));  // it wrote after resuming
  EXPECT_EQ(lost_after_crash, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, FullDiskTest,
    ::testing::Values(Params{false, true}, Params{false, false}, Params{true, true},
                      Params{true, false}),
    [](const auto& info) {
      return std::string(info.param.auto_resume ? "AutoResume" : "Resume") +
             (info.param.reserve ? "DefaultReserve" : "NoReserve");
    });

}  // namespace db_full_disk_test
}  // namespace ringdb
