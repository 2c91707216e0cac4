// ringdb_stress: the writer half of the crash test (crash_driver.cc runs it
// and kills it). Opens the database, then N threads write until the
// process is killed (or each reached --max_ops and the DB closed cleanly).
//
// Thread t owns the keys "t<t>k<index>" for index < --keys and does single
// puts (sync and not), deletes, WriteBatches of several operations and,
// now and then, a large value (up to about 1 MiB); thread 0 also calls
// Checkpoint now and then. Before each write it appends an intent line to
// its journal, after the write returned OK an ack line (stress_journal.h).
// The journal is written with write(2) and never fsync'd: a SIGKILL does
// not lose what the kernel already holds in its page cache.
//
// Exit: 0 after a clean Close, 2 when a write or Close failed, 3 when Open
// failed, 4 on a bad flag. The driver treats anything but 0 or death by
// SIGKILL as a failure.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ringdb/db.h"
#include "stress_journal.h"

namespace ringdb::stress {
namespace {

struct Flags {
  std::string db;
  std::string journal_dir;
  int threads = 4;
  uint32_t keys = 1000;
  uint64_t seed = 1;
  uint64_t cycle = 0;
  uint64_t max_ops = 0;  // per thread; 0: until killed
  uint32_t page_size = 4096;
  size_t pool_bytes = 1 << 20;
  uint64_t checkpoint_log_bytes = 2 << 20;
  bool pread = false;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) {
      std::fprintf(stderr, "ringdb_stress: bad argument %s (use --name=value)\n", a.c_str());
      return false;
    }
    std::string name = a.substr(2, eq - 2), v = a.substr(eq + 1);
    if (name == "db") f->db = v;
    else if (name == "journal_dir") f->journal_dir = v;
    else if (name == "threads") f->threads = std::stoi(v);
    else if (name == "keys") f->keys = std::stoul(v);
    else if (name == "seed") f->seed = std::stoull(v);
    else if (name == "cycle") f->cycle = std::stoull(v);
    else if (name == "max_ops") f->max_ops = std::stoull(v);
    else if (name == "page_size") f->page_size = std::stoul(v);
    else if (name == "pool_bytes") f->pool_bytes = std::stoull(v);
    else if (name == "checkpoint_log_bytes") f->checkpoint_log_bytes = std::stoull(v);
    else if (name == "backend") f->pread = v == "pread";
    else {
      std::fprintf(stderr, "ringdb_stress: unknown flag --%s\n", name.c_str());
      return false;
    }
  }
  if (f->db.empty() || f->journal_dir.empty() || f->threads < 1 || f->threads > 99) {
    std::fprintf(stderr, "ringdb_stress: need --db, --journal_dir, --threads in [1, 99]\n");
    return false;
  }
  return true;
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::perror("ringdb_stress: journal write");
      _exit(2);
    }
    done += static_cast<size_t>(n);
  }
}

std::atomic<bool> g_failed{false};

void Fail(const char* what, int thread, uint64_t seq, const Status& s) {
  std::fprintf(stderr, "ringdb_stress: thread %d seq %llu: %s failed: %s\n", thread,
               static_cast<unsigned long long>(seq), what, s.ToString().c_str());
  g_failed = true;
}

size_t ValueLength(std::mt19937_64& rng) {
  uint64_t r = rng() % 1000;
  if (r < 5) return (256u << 10) + rng() % (768u << 10);  // 0.5%: 256 KiB .. 1 MiB
  if (r < 30) return 4096 + rng() % 60000;                // overflow pages
  return 40 + rng() % 400;
}

void RunThread(DB* db, const Flags& f, int t) {
  std::mt19937_64 rng(f.seed * 1000003 + f.cycle * 7919 + static_cast<uint64_t>(t));
  int fd = ::open(JournalPath(f.journal_dir, t).c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("ringdb_stress: open journal");
    _exit(2);
  }
  // Half of the picks go to a small hot set, so keys are overwritten often.
  auto pick_key = [&]() -> std::string {
    uint32_t hot = std::max<uint32_t>(1, f.keys / 20);
    uint32_t idx = rng() % 2 ? rng() % hot : rng() % f.keys;
    return KeyName(t, idx);
  };
  for (uint64_t seq = 1; !g_failed && (f.max_ops == 0 || seq <= f.max_ops); seq++) {
    // 50% single puts, 15% deletes, 35% batches of 2-8 puts and deletes.
    uint64_t r = rng() % 100;
    bool sync = rng() % 4 == 0;
    bool is_batch = r >= 65;
    size_t n = is_batch ? 2 + rng() % 7 : 1;
    std::vector<JournalOp> ops;
    std::vector<std::string> values;
    WriteBatch batch;
    for (size_t i = 0; i < n; i++) {
      JournalOp op;
      op.key = pick_key();
      op.del = (r >= 50 && r < 65) || (is_batch && rng() % 4 == 0);
      if (op.del) {
        batch.Delete(op.key);
        values.emplace_back();
      } else {
        values.push_back(MakeValue(f.cycle, t, seq, op.key, ValueLength(rng)));
        op.len = values.back().size();
        op.hash = Hash(values.back());
        batch.Put(op.key, values.back());
      }
      ops.push_back(std::move(op));
    }
    WriteAll(fd, IntentLine(seq, sync, ops));
    WriteOptions wo;
    wo.sync = sync;
    Status s;
    if (is_batch) {
      s = db->Write(wo, &batch);
    } else if (ops[0].del) {
      s = db->Delete(wo, ops[0].key);
    } else {
      s = db->Put(wo, ops[0].key, values[0]);
    }
    if (!s.ok()) {
      Fail("write", t, seq, s);
      break;
    }
    WriteAll(fd, AckLine(seq));
    if (t == 0 && rng() % 500 == 0) {
      Status c = db->Checkpoint();
      if (!c.ok()) {
        Fail("checkpoint", t, seq, c);
        break;
      }
    }
  }
  ::close(fd);
}

int Main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) return 4;
  Options options;
  options.page_size = f.page_size;
  options.buffer_pool_bytes = f.pool_bytes;
  options.checkpoint_log_bytes = f.checkpoint_log_bytes;
  options.io_backend = f.pread ? IoBackendKind::kPread : IoBackendKind::kIoUring;
  options.lock_pool_memory = false;
  options.info_log = [](std::string_view) {};
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, f.db, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "ringdb_stress: open %s: %s\n", f.db.c_str(), s.ToString().c_str());
    return 3;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < f.threads; t++) threads.emplace_back(RunThread, db.get(), f, t);
  for (std::thread& th : threads) th.join();
  s = db->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "ringdb_stress: close: %s\n", s.ToString().c_str());
    return 2;
  }
  return g_failed ? 2 : 0;
}

}  // namespace
}  // namespace ringdb::stress

int main(int argc, char** argv) { return ringdb::stress::Main(argc, argv); }
