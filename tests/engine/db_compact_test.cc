// A file that holds only live data: checkpoints cut free slots off the end
// of the data file and punch holes in the rest, and Compact() moves pages
// down so the file shrinks to about the live pages, also across crashes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "engine/db_impl.h"
#include "io/fault_backend.h"
#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_compact_test {

namespace fs = std::filesystem;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%08d", i);
  return buf;
}
std::string Value(int i) { return std::string(200, static_cast<char>('a' + i % 26)); }

uint64_t Prop(DB* db, const char* name) {
  std::string v;
  EXPECT_TRUE(db->GetProperty(name, &v)) << name;
  return std::strtoull(v.c_str(), nullptr, 10);
}

class CompactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 256 * 4096;
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
  }
  test::TempDir tmp_{"compact"};
  std::string dir_;
  Options options_;
};

TEST_F(CompactTest, FileFollowsTheDataDownAfterMassDeletes) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  const int n = 40000;
  for (int i = 0; i < n; i++) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i)).ok());
  ASSERT_TRUE(db->Checkpoint().ok());
  uint64_t full_file = Prop(db.get(), "ringdb.store.file_bytes");
  uint64_t full_live = Prop(db.get(), "ringdb.store.live_pages") * 4096;
  std::mt19937 rng(3);
  std::vector<int> kept;
  for (int i = 0; i < n; i++) {
    if (i % 10 == 0) {
      kept.push_back(i);
    } else {
      ASSERT_TRUE(db->Delete(WriteOptions(), Key(i)).ok());
    }
  }
  ASSERT_TRUE(db->Checkpoint().ok());
  Status s = db->Compact();
  ASSERT_TRUE(s.ok()) << s.ToString();
  uint64_t live = Prop(db.get(), "ringdb.store.live_pages") * 4096;
  uint64_t file = Prop(db.get(), "ringdb.store.file_bytes");
  uint64_t disk = Prop(db.get(), "ringdb.store.disk_bytes");
  std::printf("full: file %llu live %llu; after deleting 90%% and Compact: file %llu, disk %llu, "
              "live %llu\n",
              (unsigned long long)full_file, (unsigned long long)full_live,
              (unsigned long long)file, (unsigned long long)disk, (unsigned long long)live);
  EXPECT_LE(file, live * 12 / 10 + 16 * 4096) << "the file did not shrink to the live pages";
  EXPECT_LE(disk, file + 4096);
  std::string report;
  ASSERT_TRUE(db->Verify(&report).ok()) << report;
  for (int i : kept) {
    std::string v;
    ASSERT_TRUE(db->Get(ReadOptions(), Key(i), &v).ok());
    ASSERT_EQ(v, Value(i));
  }
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  EXPECT_LE(fs::file_size(dir_ + "/ringdb.data"), live * 12 / 10 + 16 * 4096);
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  int count = 0;
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) count++;
  EXPECT_EQ(count, static_cast<int>(kept.size()));
  it.reset();
  ASSERT_TRUE(db->Close().ok());
}

// Compactions killed at random points: the database reopens with every
// acknowledged write (sync) and verifies. The child reports through a pipe
// when its deletes are acknowledged; the kill comes only after that, during
// compaction, and the child must die of it (a Compact that failed ends the
// child with exit code 4 and fails the test).
TEST_F(CompactTest, KilledCompactionLosesNothing) {
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
    for (int i = 0; i < 20000; i++) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i)).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  std::mt19937_64 rng(9);
  int deleted_upto = 0;
  for (int round = 0; round < 6; round++) {
    int lo = deleted_upto, hi = deleted_upto + 2500;
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(ready[0]);
      std::unique_ptr<DB> db;
      if (!DB::Open(options_, dir_, &db).ok()) _exit(2);
      WriteOptions sync;
      sync.sync = true;
      for (int i = lo; i < hi; i++) {
        if (!db->Delete(sync, Key(i)).ok()) _exit(3);
      }
      if (write(ready[1], "d", 1) != 1) _exit(5);  // the deletes are acknowledged
      for (;;) {
        if (!db->Compact().ok()) _exit(4);
      }
    }
    close(ready[1]);
    char byte = 0;
    ssize_t got = read(ready[0], &byte, 1);  // 0 (EOF) when the child died first
    close(ready[0]);
    usleep(static_cast<useconds_t>(rng() % 400000));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_EQ(got, 1) << "round " << round << ": the child died before its deletes were done";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "round " << round << ": the child was not killed during compaction (exit code "
        << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "; 4: Compact failed)";
    std::unique_ptr<DB> db;
    Status o = DB::Open(options_, dir_, &db);
    ASSERT_TRUE(o.ok()) << "round " << round << ": " << o.ToString();
    std::string report;
    ASSERT_TRUE(db->Verify(&report).ok()) << "round " << round << ": " << report;
    // Keys past every round's range are never touched: all must be there.
    for (int i = 0; i < 20000; i += 7) {
      std::string v;
      Status g = db->Get(ReadOptions(), Key(i), &v);
      if (i >= hi) {
        ASSERT_TRUE(g.ok()) << "round " << round << " key " << i << ": " << g.ToString();
        ASSERT_EQ(v, Value(i));
      } else {
        // i < lo: deleted in an earlier round; [lo, hi): deleted with
        // sync=true before the kill.
        ASSERT_TRUE(g.IsNotFound()) << "round " << round << " key " << i << ": " << g.ToString();
      }
    }
    ASSERT_TRUE(db->Close().ok());
    deleted_upto = hi;
  }
}

// A machine crash at each write of a Compact() in turn (io::FaultBackend:
// the nth write fails and every later I/O too, then a power cut drops what
// was not synced): the reopened database holds exactly what it held
// before, and a later Compact() brings the file to within 16 pages of
// where a compaction without a crash left it.
TEST_F(CompactTest, PowerCutAtEveryWriteOfACompaction) {
  constexpr int kKeys = 6000;
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
    for (int i = 0; i < kKeys; i++) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i)).ok());
    ASSERT_TRUE(db->Checkpoint().ok());
    for (int i = 0; i < kKeys; i++) {
      if (i % 10 != 0) {
        ASSERT_TRUE(db->Delete(WriteOptions(), Key(i)).ok());
      }
    }
    ASSERT_TRUE(db->Close().ok());
  }
  const std::string saved = dir_ + ".saved";
  fs::copy(dir_, saved, fs::copy_options::recursive);
  auto restore = [&] {
    fs::remove_all(dir_);
    fs::copy(saved, dir_, fs::copy_options::recursive);
  };
  // A run without a fault counts the compaction's writes.
  uint64_t total = 0;
  uint64_t compacted = 0;  // the data file's size after it
  {
    auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
    std::unique_ptr<DB> db;
    ASSERT_TRUE(OpenWithBackend(options_, dir_, backend, &db).ok());
    const uint64_t before = backend->count(io::FaultOp::kWrite);
    ASSERT_TRUE(db->Compact().ok());
    total = backend->count(io::FaultOp::kWrite) - before;
    ASSERT_TRUE(db->Close().ok());
    compacted = fs::file_size(dir_ + "/ringdb.data");
  }
  ASSERT_LT(compacted, fs::file_size(saved + "/ringdb.data"));
  ASSERT_GT(total, 10u);
  const uint64_t step = total > 150 ? total / 150 + 1 : 1;
  std::printf("compaction: %llu writes; a crash at every %llu\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(step));
  for (uint64_t nth = 1; nth <= total; nth += step) {
    SCOPED_TRACE("crash at write " + std::to_string(nth) + " of " + std::to_string(total));
    restore();
    auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
    std::unique_ptr<DB> db;
    ASSERT_TRUE(OpenWithBackend(options_, dir_, backend, &db).ok());
    backend->TrackUnsynced(true);
    backend->Arm(io::Fault{io::FaultOp::kWrite, nth, io::FaultKind::kEio, 0, /*crash=*/true});
    Status c = db->Compact();
    ASSERT_TRUE(backend->fired());
    EXPECT_FALSE(c.ok()) << "a compaction that lost a write said OK";
    db.reset();  // the machine is dead: its close fails too
    ASSERT_TRUE(backend->PowerCut(nth, /*tear=*/true).ok());
    backend->Disarm();
    Status o = DB::Open(options_, dir_, &db);
    ASSERT_TRUE(o.ok()) << o.ToString();
    std::string report;
    ASSERT_TRUE(db->Verify(&report).ok()) << report;
    for (int i = 0; i < kKeys; i++) {
      std::string v;
      Status g = db->Get(ReadOptions(), Key(i), &v);
      if (i % 10 == 0) {
        ASSERT_TRUE(g.ok()) << "key " << i << ": " << g.ToString();
        ASSERT_EQ(v, Value(i));
      } else {
        ASSERT_TRUE(g.IsNotFound()) << "key " << i << ": " << g.ToString();
      }
    }
    ASSERT_TRUE(db->Close().ok());
  }
  // After the last crash, a compaction runs to the end.
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  ASSERT_TRUE(db->Compact().ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_LE(fs::file_size(dir_ + "/ringdb.data"), compacted + 16 * 4096);
}

}  // namespace db_compact_test
}  // namespace ringdb
