// Write errors with a severity, DB::Resume and auto-resume (issue 17), with
// an io backend whose writes fail the way a full disk (ENOSPC), a quota
// (EDQUOT) or a flaky device (EIO that clears after N attempts) fails them,
// and whose reads can fail to cut a batch in half (a hard error).
//
// Every test keeps a model of the acknowledged writes and checks, after the
// failure, after Resume and after a reopen, that each reads back, and that a
// refused write is wholly present or wholly absent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "engine/db_impl.h"
#include "io/io_backend.h"
#include "tests/util/forwarding_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_resume_test {

namespace fs = std::filesystem;

// Forwards to a real backend; fails writes (and syncs) while told to.
class FailingBackend final : public test::ForwardingBackend {
 public:
  explicit FailingBackend(std::unique_ptr<io::IoBackend> inner)
      : ForwardingBackend(inner.get()), owned_(std::move(inner)) {}

  // Every write and sync fails with `err` until Heal().
  void FailAll(int err) {
    err_.store(err);
    transient_.store(0);
  }
  // The next `n` writes or syncs fail with EIO, later ones go through.
  void FailNext(int n) {
    err_.store(0);
    transient_.store(n);
  }
  void Heal() {
    err_.store(0);
    transient_.store(0);
  }
  void set_fail_reads(bool on) { fail_reads_.store(on); }
  // Failures apply only to files whose path contains `part` ("" = all).
  void set_only(std::string part) {
    std::lock_guard<std::mutex> lock(mu_);
    only_ = std::move(part);
  }
  // The next write to a log segment writes half of its bytes, then fails
  // with EIO (a partial write at the end of the log).
  void ShortLogWriteOnce() { short_log_.store(true); }
  uint64_t failed() const { return failed_.load(); }

  std::string Name() const override { return "failing(" + inner()->Name() + ")"; }
  Status Sync(io::FileId file) override {
    if (!Applies(inner()->PathOf(file))) return inner()->Sync(file);
    if (int err = NextError(); err != 0) {
      failed_.fetch_add(1);
      return io::ErrnoStatus(err, "fdatasync", inner()->PathOf(file), 0);
    }
    return inner()->Sync(file);
  }

 private:
  int Refuse(io::IoRequest& r) override {
    int err = 0;
    const std::string path = inner()->PathOf(r.file);
    if (r.op == io::IoRequest::Op::kWrite && path.find(".log") != std::string::npos &&
        r.len > 1 && short_log_.exchange(false)) {
      io::IoRequest half = r;
      half.len = r.len / 2;
      (void)inner()->Submit(std::span<io::IoRequest>(&half, 1));
      err = EIO;
    } else if (r.op == io::IoRequest::Op::kWrite && Applies(path)) {
      err = NextError();
    }
    if (r.op == io::IoRequest::Op::kRead && fail_reads_.load()) err = EIO;
    if (err != 0) failed_.fetch_add(1);
    return err;
  }
  bool Applies(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return only_.empty() || path.find(only_) != std::string::npos;
  }
  int NextError() {
    if (int err = err_.load(); err != 0) return err;
    int left = transient_.load();
    while (left > 0) {
      if (transient_.compare_exchange_weak(left, left - 1)) return EIO;
    }
    return 0;
  }

  std::unique_ptr<io::IoBackend> owned_;  // inner()
  std::atomic<int> err_{0};
  std::atomic<int> transient_{0};
  std::atomic<bool> fail_reads_{false};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> short_log_{false};
  std::mutex mu_;
  std::string only_;  // guarded by mu_
};

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 16 * 4096;
    options_.lock_pool_memory = false;
    options_.auto_resume_interval_ms = 0;
    options_.info_log = [](std::string_view) {};
  }
  void TearDown() override { db_.reset(); }

  void Open() {
    backend_ = std::make_shared<FailingBackend>(io::NewPreadBackend());
    Status s = OpenWithBackend(options_, dir_, backend_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Reopen() {
    if (db_) (void)db_->Close();  // may fail: the error is what a test checks
    db_.reset();
    backend_->Heal();
    backend_->set_fail_reads(false);
    Status s = OpenWithBackend(options_, dir_, backend_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static std::string Key(int i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "key%06d", i);
    return buf;
  }
  static std::string Value(int i, int round) {
    return std::string(100 + i % 150, static_cast<char>('a' + (i + round) % 26)) +
           std::to_string(round);
  }

  // Puts keys [from, to) (every other one synced); records the acknowledged
  // ones in model_. Returns the first failure (and stops there).
  Status Fill(int from, int to, int round) {
    for (int i = from; i < to; i++) {
      WriteOptions wo;
      wo.sync = i % 2 == 0;
      Status s = db_->Put(wo, Key(i), Value(i, round));
      if (!s.ok()) {
        refused_[Key(i)] = Value(i, round);
        return s;
      }
      model_[Key(i)] = Value(i, round);
    }
    return Status::OK();
  }

  // Every acknowledged write reads back; a refused one is whole or absent.
  void CheckModel(const char* when) {
    for (const auto& [k, v] : model_) {
      std::string got;
      Status s = db_->Get(ReadOptions(), k, &got);
      ASSERT_TRUE(s.ok()) << when << ": acknowledged " << k << ": " << s.ToString();
      if (refused_.count(k) && got == refused_[k]) continue;  // overwritten by a refused put
      ASSERT_EQ(got, v) << when << ": " << k;
    }
    for (const auto& [k, v] : refused_) {
      if (model_.count(k)) continue;
      std::string got;
      Status s = db_->Get(ReadOptions(), k, &got);
      ASSERT_TRUE(s.ok() || s.IsNotFound()) << when << ": " << s.ToString();
      if (s.ok()) {
        EXPECT_EQ(got, v) << when << ": refused " << k << " is there but not whole";
      }
    }
  }

  std::string Property(const char* name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return v;
  }

  test::TempDir tmp_{"resume"};
  std::string dir_;
  Options options_;
  std::shared_ptr<FailingBackend> backend_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
  std::map<std::string, std::string> refused_;
};

// A full disk (ENOSPC) and a quota (EDQUOT) are soft: reads, scans and
// Verify go on while every write is refused; Resume fails while the disk
// is still full and succeeds once it is not, without a reopen.
class NoSpaceResumeTest : public ResumeTest, public ::testing::WithParamInterface<int> {};

TEST_P(NoSpaceResumeTest, ReadOnlyWhileFullThenResumeAcceptsWrites) {
  Open();
  ASSERT_TRUE(Fill(0, 600, 0).ok());
  EXPECT_EQ(Property("ringdb.background_error"), "OK");
  EXPECT_EQ(Property("ringdb.read_only_reason"), "");

  backend_->FailAll(GetParam());
  Status s = Fill(600, 1200, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  // Read-only now: the next write is refused without touching the disk.
  const uint64_t failed = backend_->failed();
  Status again = db_->Put(WriteOptions(), "another", "x");
  EXPECT_TRUE(again.IsNoSpace()) << again.ToString();
  EXPECT_NE(again.message().find("Resume()"), std::string::npos) << again.ToString();
  EXPECT_EQ(backend_->failed(), failed);
  EXPECT_NE(Property("ringdb.background_error"), "OK");
  EXPECT_NE(Property("ringdb.read_only_reason").find("Resume()"), std::string::npos);
  EXPECT_NE(Property("ringdb.stats").find("read-only until resume"), std::string::npos);

  CheckModel("while full");
  std::string report;
  EXPECT_TRUE(db_->Verify(&report).ok()) << report;
  size_t seen = 0;
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen++;
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  it.reset();
  EXPECT_GE(seen, model_.size());

  Status still = db_->Resume();
  EXPECT_TRUE(still.IsNoSpace()) << still.ToString();
  EXPECT_FALSE(db_->Put(WriteOptions(), "another", "x").ok());

  backend_->Heal();
  Status resumed = db_->Resume();
  ASSERT_TRUE(resumed.ok()) << resumed.ToString();
  EXPECT_EQ(Property("ringdb.background_error"), "OK");
  EXPECT_EQ(Property("ringdb.resumes"), "1");
  ASSERT_TRUE(Fill(1200, 1500, 1).ok());
  CheckModel("after resume");
  EXPECT_TRUE(db_->Resume().ok());  // nothing to resume
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Reopen();
  CheckModel("after reopen");
}

INSTANTIATE_TEST_SUITE_P(Errno, NoSpaceResumeTest, ::testing::Values(ENOSPC, EDQUOT),
                         [](const auto& info) {
                           return info.param == ENOSPC ? "ENOSPC" : "EDQUOT";
                         });

// A batch refused while the disk is full is all or nothing, after Resume and
// after a reopen.
TEST_F(ResumeTest, RefusedBatchIsWholeOrAbsent) {
  Open();
  ASSERT_TRUE(Fill(0, 300, 0).ok());
  backend_->FailAll(ENOSPC);
  WriteBatch batch;
  for (int i = 0; i < 50; i++) batch.Put(Key(5000 + i), Value(i, 7));
  WriteOptions sync;
  sync.sync = true;
  Status s = db_->Write(sync, &batch);
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  backend_->Heal();
  ASSERT_TRUE(db_->Resume().ok());
  auto count = [&] {
    int present = 0;
    for (int i = 0; i < 50; i++) {
      std::string v;
      Status g = db_->Get(ReadOptions(), Key(5000 + i), &v);
      EXPECT_TRUE(g.ok() || g.IsNotFound()) << g.ToString();
      if (g.ok()) {
        EXPECT_EQ(v, Value(i, 7));
        present++;
      }
    }
    return present;
  };
  int after_resume = count();
  EXPECT_TRUE(after_resume == 0 || after_resume == 50) << after_resume;
  Reopen();
  int after_reopen = count();
  EXPECT_EQ(after_reopen, after_resume);
  CheckModel("after reopen");
}

// A device whose writes fail with EIO a few times and then work: the error
// is soft, Resume fails while it lasts and then succeeds.
TEST_F(ResumeTest, TransientEioClearsAfterNAttempts) {
  Open();
  ASSERT_TRUE(Fill(0, 400, 0).ok());
  constexpr int kFailures = 3;
  backend_->FailNext(kFailures);
  Status s = Fill(400, 800, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsIOError() && !s.IsNoSpace()) << s.ToString();
  CheckModel("while failing");
  int attempts = 0;
  Status r;
  do {
    r = db_->Resume();
    attempts++;
    if (!r.ok()) {
      EXPECT_TRUE(r.IsIOError()) << r.ToString();
    }
  } while (!r.ok() && attempts < 10);
  ASSERT_TRUE(r.ok()) << r.ToString();
  EXPECT_LE(attempts, kFailures + 1);
  EXPECT_EQ(backend_->failed(), static_cast<uint64_t>(kFailures));
  ASSERT_TRUE(Fill(800, 1000, 1).ok());
  CheckModel("after resume");
  Reopen();
  CheckModel("after reopen");
}

// A log write that failed half-way leaves a partial record at the end of
// the segment. Resume cuts it off before it starts the next segment, so a
// crash in the middle of Resume (here: its checkpoint fails, and a copy of
// the files stands for the crashed machine's disk) still opens, with every
// acknowledged write.
TEST_F(ResumeTest, CrashDuringResumeAfterAPartialLogWriteRecovers) {
  Open();
  ASSERT_TRUE(Fill(0, 500, 0).ok());
  backend_->ShortLogWriteOnce();
  Status s = Fill(500, 600, 0);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  backend_->set_only("ringdb.data");
  backend_->FailAll(ENOSPC);
  Status r = db_->Resume();
  ASSERT_TRUE(r.IsNoSpace()) << r.ToString();
  const std::string copy = dir_ + "_crashed";
  fs::remove_all(copy);
  fs::copy(dir_, copy);
  {
    std::unique_ptr<DB> crashed;
    Options o = options_;
    Status open = DB::Open(o, copy, &crashed);
    ASSERT_TRUE(open.ok()) << open.ToString();
    for (const auto& [k, v] : model_) {
      std::string got;
      ASSERT_TRUE(crashed->Get(ReadOptions(), k, &got).ok()) << k;
      EXPECT_EQ(got, v);
    }
  }
  fs::remove_all(copy);
  backend_->Heal();
  backend_->set_only("");
  ASSERT_TRUE(db_->Resume().ok());
  ASSERT_TRUE(Fill(600, 700, 1).ok());
  CheckModel("after resume");
  Reopen();
  CheckModel("after reopen");
}

// A batch that failed after part of it changed the tree is hard: Resume is
// refused and names the fix, reads go on, and the reopened database holds
// the whole batch (recovery replays its log record).
TEST_F(ResumeTest, HalfAppliedBatchIsHardAndRefusesResume) {
  Open();
  ASSERT_TRUE(Fill(0, 3000, 0).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  // The last key's leaf is cached; the first key's is not (16 frames).
  std::string v;
  for (int i = 2950; i < 3000; i++) ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &v).ok());
  WriteBatch batch;
  batch.Put(Key(2999), "cached leaf");
  batch.Put(Key(0), "leaf on disk");
  backend_->set_fail_reads(true);
  Status s = db_->Write(WriteOptions(), &batch);
  ASSERT_FALSE(s.ok());
  backend_->set_fail_reads(false);
  EXPECT_NE(Property("ringdb.read_only_reason").find("half-applied"), std::string::npos)
      << Property("ringdb.read_only_reason");
  Status r = db_->Resume();
  EXPECT_TRUE(r.IsInvalidArgument()) << r.ToString();
  EXPECT_NE(r.message().find("reopen"), std::string::npos) << r.ToString();
  EXPECT_FALSE(db_->Put(WriteOptions(), "later", "x").ok());
  ASSERT_TRUE(db_->Get(ReadOptions(), Key(1500), &v).ok());
  EXPECT_FALSE(db_->Close().ok());
  db_.reset();
  Reopen();
  ASSERT_TRUE(db_->Get(ReadOptions(), Key(2999), &v).ok());
  EXPECT_EQ(v, "cached leaf");
  ASSERT_TRUE(db_->Get(ReadOptions(), Key(0), &v).ok());
  EXPECT_EQ(v, "leaf on disk");
  EXPECT_TRUE(db_->Put(WriteOptions(), "later", "x").ok());
}

// A single put that fails before changing the tree (its leaf cannot be
// read) is soft: nothing was applied.
TEST_F(ResumeTest, PutThatChangedNothingIsSoft) {
  Open();
  ASSERT_TRUE(Fill(0, 3000, 0).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  std::string v;
  for (int i = 2950; i < 3000; i++) ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &v).ok());
  backend_->set_fail_reads(true);
  Status s = db_->Put(WriteOptions(), Key(0), "refused");
  ASSERT_FALSE(s.ok());
  backend_->set_fail_reads(false);
  EXPECT_NE(Property("ringdb.read_only_reason").find("before changing anything"),
            std::string::npos)
      << Property("ringdb.read_only_reason");
  ASSERT_TRUE(db_->Resume().ok());
  ASSERT_TRUE(db_->Get(ReadOptions(), Key(0), &v).ok());
  EXPECT_EQ(v, Value(0, 0));
  ASSERT_TRUE(Fill(3000, 3100, 1).ok());
  Reopen();
  ASSERT_TRUE(db_->Get(ReadOptions(), Key(0), &v).ok());
  EXPECT_EQ(v, Value(0, 0));  // Resume's checkpoint started the log after it
  CheckModel("after reopen");
}

// The reserve refuses writes before the disk is full, says how much is
// needed and where, and leaves room for a clean close.
TEST_F(ResumeTest, ReserveRefusesWritesBeforeTheDiskIsFull) {
  options_.reserved_disk_bytes = uint64_t{1} << 62;  // more than any disk
  Open();
  Status s = db_->Put(WriteOptions(), "k", "v");
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(s.message().find(dir_), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("more free space"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("reserved_disk_bytes"), std::string::npos) << s.ToString();
  EXPECT_NE(Property("ringdb.stats").find("in reserve (reserved_disk_bytes)"), std::string::npos);
  EXPECT_TRUE(db_->Resume().IsNoSpace());
  EXPECT_EQ(backend_->failed(), 0u);
  EXPECT_TRUE(db_->Close().ok());
}

// Auto-resume: writers and readers run while the disk fills; once it has
// room again the background thread resumes writes without any call.
TEST_F(ResumeTest, ConcurrentAutoResumeAfterTheDiskHasRoom) {
  options_.auto_resume_interval_ms = 5;
  Open();
  ASSERT_TRUE(Fill(0, 200, 0).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> read_errors{0};
  std::thread reader([&] {
    std::string v;
    while (!stop.load()) {
      for (int i = 0; i < 200 && !stop.load(); i += 7) {
        if (!db_->Get(ReadOptions(), Key(i), &v).ok()) read_errors++;
      }
    }
  });
  std::map<std::string, std::string> acked[2];
  std::atomic<int> refusals{0};
  auto writer = [&](int t) {
    for (int i = 0; i < 3000 && !stop.load(); i++) {
      std::string k = "w" + std::to_string(t) + "_" + std::to_string(i);
      WriteOptions wo;
      wo.sync = i % 3 == 0;
      if (db_->Put(wo, k, Value(i, t)).ok()) {
        acked[t][k] = Value(i, t);
      } else {
        refusals++;
      }
    }
  };
  backend_->FailAll(ENOSPC);
  std::thread w0(writer, 0), w1(writer, 1);
  while (refusals.load() < 20 && !stop.load()) std::this_thread::yield();
  backend_->Heal();
  w0.join();
  w1.join();
  // Writes come back on their own.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Status s;
  while (!(s = db_->Put(WriteOptions(), "after", "auto")).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop.store(true);
  reader.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_GE(std::stoi(Property("ringdb.resumes")), 1);
  for (auto& m : acked) model_.insert(m.begin(), m.end());
  CheckModel("after auto-resume");
  Reopen();
  CheckModel("after reopen");
}

}  // namespace db_resume_test
}  // namespace ringdb
