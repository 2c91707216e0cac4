// crash_driver: the process-level crash test (in the spirit of RocksDB's
// db_stress + crash_test.py). Each cycle runs ringdb_stress on one database,
// kills it with SIGKILL at a random instant, reopens the database in this
// process and checks it against the writer threads' journals:
//   - every write acknowledged with sync=true is there with its exact value,
//     unless a later write of the same thread to the same key explains it;
//   - for each writer thread the database holds exactly the state after
//     some prefix of that thread's attempted writes that includes every
//     sync-acknowledged one (this is what rules out half a batch: a batch is
//     one step of the prefix);
//   - no key that was never written, no value that no write produced;
//   - a forward and a backward iterator scan agree with point Gets;
//   - DB::Verify is OK.
// The database carries over from cycle to cycle (what this cycle found is
// the next cycle's starting state), so recovery of recovered databases,
// checkpoints and page reuse are exercised too. In about one cycle in three
// the check runs on a copy of the crashed database and the original keeps
// its crashed log: the next writer then replays that log itself (and opens
// with a checkpoint that trims it), and a short kill time in some of those
// cycles lands the next SIGKILL during that replay, checkpoint or trim.
//
// Prints the seed first, then "cycles N, lost L, corrupt C"; exits 0 when
// both are 0 and the run tested something (kills, attempted and acknowledged
// writes all above zero). On the first failure prints what was wrong and
// the command that replays the run, keeps the database and journals, and
// exits 1.
//
// Flags (--name=value or --name value): --cycles (20), --seed (default: the
// environment's RINGDB_SEED, else the clock), --db
// (/tmp/ringdb_crash_<pid>), --threads (4), --keys (1000 per thread),
// --kill_min_ms (100), --kill_max_ms (1500), --writer (path of
// ringdb_stress; default: next to this binary), --verbose, --no_sync (also
// --no-sync: every acknowledged write must survive, sync or not: the
// process-crash promise of sync = false), --self_test (lost|corrupt: after
// a kill, damage the database on purpose the way a bug would, and expect
// the check to catch it; exits 0 only if it does, and 1 if no cycle could
// be sabotaged).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ringdb/db.h"
#include "stress_journal.h"

namespace ringdb::stress {
namespace {

namespace fs = std::filesystem;

struct Flags {
  uint64_t cycles = 20;
  uint64_t seed = 0;
  std::string db;
  int threads = 4;
  uint32_t keys = 1000;
  uint64_t kill_min_ms = 100;
  uint64_t kill_max_ms = 1500;
  std::string writer;
  bool verbose = false;
  bool no_sync = false;
  std::string self_test;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  if (const char* env = std::getenv("RINGDB_SEED"); env != nullptr && env[0] != '\0') {
    f->seed = std::strtoull(env, nullptr, 10);
  } else {
    f->seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) %
              1000000007ull;
  }
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      std::fprintf(stderr, "crash_driver: bad argument %s\n", a.c_str());
      return false;
    }
    std::string name = a.substr(2), v;
    if (name == "no-sync") name = "no_sync";
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      v = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name != "verbose" && name != "no_sync") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "crash_driver: --%s needs a value\n", name.c_str());
        return false;
      }
      v = argv[++i];
    }
    if (name == "cycles") f->cycles = std::stoull(v);
    else if (name == "seed") f->seed = std::stoull(v);
    else if (name == "db") f->db = v;
    else if (name == "threads") f->threads = std::stoi(v);
    else if (name == "keys") f->keys = std::stoul(v);
    else if (name == "kill_min_ms") f->kill_min_ms = std::stoull(v);
    else if (name == "kill_max_ms") f->kill_max_ms = std::stoull(v);
    else if (name == "writer") f->writer = v;
    else if (name == "verbose") f->verbose = true;
    else if (name == "no_sync") f->no_sync = true;
    else if (name == "self_test") f->self_test = v;
    else {
      std::fprintf(stderr, "crash_driver: unknown flag --%s\n", name.c_str());
      return false;
    }
  }
  if (f->threads < 1 || f->threads > 99 || f->keys < 1 || f->kill_max_ms < f->kill_min_ms) {
    std::fprintf(stderr, "crash_driver: need 1 <= threads <= 99, keys >= 1, "
                         "kill_min_ms <= kill_max_ms\n");
    return false;
  }
  if (f->db.empty()) f->db = "/tmp/ringdb_crash_" + std::to_string(getpid());
  if (f->writer.empty()) {
    f->writer = (fs::read_symlink("/proc/self/exe").parent_path() / "ringdb_stress").string();
  }
  return true;
}

// What a key holds: nothing, or a value known by its hash.
using KeyState = std::optional<uint64_t>;

struct Totals {
  uint64_t lost = 0;
  uint64_t corrupt = 0;
  uint64_t attempted = 0;
  uint64_t acked = 0;
  uint64_t sync_acked = 0;
  uint64_t unacked_seen = 0;  // attempted-but-unacknowledged writes that survived
  uint64_t kills = 0;
  uint64_t clean_exits = 0;
  uint64_t crashed_log_handoffs = 0;  // cycles whose writer inherited a crashed log
};

class Driver {
 public:
  explicit Driver(const Flags& f) : f_(f), journal_dir_(f.db + ".journal") {}

  int Run();

 private:
  // Runs the writer until a random instant, then SIGKILLs it. False when the
  // writer failed on its own.
  bool RunWriter(uint64_t cycle, std::mt19937_64& rng, std::string* error);
  // Checks the reopened database; adds to totals_. False on the first
  // failure, with *error describing it. With on_copy, checks a copy of the
  // database and leaves the original (and its crashed log) untouched.
  bool Check(std::string* error, bool on_copy = false);
  // --self_test: makes the database wrong on purpose. False if it could not.
  bool Sabotage(std::string* what);
  bool CheckThread(int t, const std::vector<JournalEntry>& entries,
                   const std::map<std::string, std::string>& seen, uint64_t* prefix,
                   std::string* error);

  const Flags f_;
  const std::string journal_dir_;
  std::map<std::string, uint64_t> baseline_;  // key -> value hash, from the last check
  uint32_t page_size_ = 4096;
  bool inherits_crashed_log_ = false;  // the next writer opens a log nobody replayed
  Totals totals_;
};

bool Driver::RunWriter(uint64_t cycle, std::mt19937_64& rng, std::string* error) {
  static const size_t kPools[] = {256u << 10, 1u << 20, 8u << 20};
  static const uint64_t kCkpt[] = {256u << 10, 2u << 20, 16u << 20};
  std::vector<std::string> args = {
      f_.writer,
      "--db=" + f_.db,
      "--journal_dir=" + journal_dir_,
      "--threads=" + std::to_string(f_.threads),
      "--keys=" + std::to_string(f_.keys),
      "--seed=" + std::to_string(f_.seed),
      "--cycle=" + std::to_string(cycle),
      "--page_size=" + std::to_string(page_size_),
      "--pool_bytes=" + std::to_string(kPools[rng() % 3]),
      "--checkpoint_log_bytes=" + std::to_string(kCkpt[rng() % 3]),
      std::string("--backend=") + (rng() % 3 == 0 ? "pread" : "io_uring"),
  };
  // One cycle in eight the writer stops by itself, so the kill may hit
  // Close (its checkpoint) or miss the process altogether.
  if (rng() % 8 == 0) args.push_back("--max_ops=" + std::to_string(1 + rng() % 400));
  uint64_t kill_ms = f_.kill_min_ms + rng() % (f_.kill_max_ms - f_.kill_min_ms + 1);
  // A writer that inherited a crashed log spends its first moments replaying
  // it and checkpointing: half of the time, kill it then.
  if (inherits_crashed_log_ && rng() % 2 == 0) kill_ms = 1 + rng() % 80;
  if (f_.verbose) {
    std::string cmd;
    for (const std::string& a : args) cmd += a + " ";
    std::fprintf(stderr, "cycle %llu: kill after %llu ms: %s\n",
                 static_cast<unsigned long long>(cycle),
                 static_cast<unsigned long long>(kill_ms), cmd.c_str());
  }
  pid_t pid = fork();
  if (pid < 0) {
    *error = "fork failed";
    return false;
  }
  if (pid == 0) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::perror("crash_driver: exec ringdb_stress");
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_ms);
  int status = 0;
  pid_t done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (done != pid) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    totals_.kills++;
    return true;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    totals_.clean_exits++;
    return true;
  }
  *error = "the writer failed on its own (status " + std::to_string(status) +
           "; exit codes: 2 write/close error, 3 open error)";
  return false;
}

// Thread t's keys are consistent with the state after some prefix p of its
// attempted writes, with p >= its last sync-acknowledged write. For each
// key the prefixes that give what the database holds form intervals; the
// per-key intervals are summed in a difference array.
bool Driver::CheckThread(int t, const std::vector<JournalEntry>& entries,
                         const std::map<std::string, std::string>& seen, uint64_t* prefix,
                         std::string* error) {
  const uint64_t n = entries.size();
  uint64_t s = 0;  // every entry <= s must be in
  for (const JournalEntry& e : entries) {
    if (e.acked) totals_.acked++;
    if (e.acked && e.sync) totals_.sync_acked++;
    // What must survive a SIGKILL: sync-acknowledged writes, and with
    // --no_sync every acknowledged one.
    if (e.acked && (e.sync || f_.no_sync)) s = e.seq;
  }
  totals_.attempted += n;
  // key -> [(entry index, state after it)]
  std::map<std::string, std::vector<std::pair<uint64_t, KeyState>>> history;
  for (const JournalEntry& e : entries) {
    for (const JournalOp& op : e.ops) {
      auto& h = history[op.key];
      KeyState st = op.del ? KeyState() : KeyState(op.hash);
      if (!h.empty() && h.back().first == e.seq) {
        h.back().second = st;  // later op of the same batch wins
      } else {
        h.emplace_back(e.seq, st);
      }
    }
  }
  std::vector<int64_t> diff(n + 2, 0);
  int64_t touched = 0;
  for (uint32_t i = 0; i < f_.keys; i++) {
    std::string key = KeyName(t, i);
    KeyState before;
    if (auto b = baseline_.find(key); b != baseline_.end()) before = b->second;
    KeyState now;
    auto it = seen.find(key);
    if (it != seen.end()) now = Hash(it->second);
    auto h = history.find(key);
    if (h == history.end()) {
      if (now != before) {
        totals_.corrupt++;
        *error = "key " + key + " was not written this cycle but changed: " +
                 (before ? "had a value" : "was absent") + ", now " +
                 (now ? "holds " + it->second.substr(0, 60) : "absent");
        return false;
      }
      continue;
    }
    touched++;
    const auto& steps = h->second;
    bool any = false, any_after_s = false;
    for (size_t j = 0; j <= steps.size(); j++) {
      KeyState st = j == 0 ? before : steps[j - 1].second;
      uint64_t lo = j == 0 ? 0 : steps[j - 1].first;
      uint64_t hi = j == steps.size() ? n + 1 : steps[j].first;  // exclusive
      if (st != now) continue;
      any = true;
      diff[lo]++;
      diff[hi]--;
      if (hi > s) any_after_s = true;
    }
    if (!any) {
      totals_.corrupt++;
      ValueId id;
      std::string what = now ? "value " + it->second.substr(0, 60) + "... (" +
                                   std::to_string(it->second.size()) + " bytes)"
                             : std::string("nothing");
      *error = "key " + key + " holds " + what + ", which no write to it produced" +
               (now && ParseValue(it->second, key, &id)
                    ? " (header names cycle " + std::to_string(id.cycle) + " seq " +
                          std::to_string(id.seq) + ")"
                    : "");
      return false;
    }
    if (!any_after_s) {
      totals_.lost++;
      uint64_t want_seq = 0;
      for (const auto& [seq, st] : steps) {
        if (seq <= s) want_seq = seq;
      }
      *error = "key " + key + ": write seq " + std::to_string(want_seq) + " of thread " +
               std::to_string(t) + " is covered by acknowledged seq " + std::to_string(s) +
               " but the key holds " +
               (now ? "an older value (" + it->second.substr(0, 40) + ")" : "nothing");
      return false;
    }
  }
  int64_t cover = 0;
  for (uint64_t p = 0; p <= n; p++) {
    cover += diff[p];
    if (p >= s && cover == touched) {
      *prefix = p;
      // Count surviving writes that were attempted but never acknowledged.
      for (uint64_t q = 0; q < p; q++) {
        if (!entries[q].acked) totals_.unacked_seen++;
      }
      return true;
    }
  }
  totals_.corrupt++;
  *error = "thread " + std::to_string(t) + ": no prefix of its " + std::to_string(n) +
           " writes (at least " + std::to_string(s) +
           ") explains every key together: a batch was half applied or writes were "
           "reordered. Batches near the end:";
  for (uint64_t q = n > 10 ? n - 10 : 0; q < n; q++) {
    const JournalEntry& e = entries[q];
    if (e.ops.size() < 2) continue;
    *error += "\n  seq " + std::to_string(e.seq) + (e.acked ? " acked" : " unacked") + ":";
    for (const JournalOp& op : e.ops) {
      auto it = seen.find(op.key);
      bool has = it != seen.end() && !op.del && Hash(it->second) == op.hash;
      bool gone = op.del && it == seen.end();
      *error += " " + op.key + (op.del ? "(del)" : "") + (has || gone ? "=visible" : "=not");
    }
  }
  return false;
}

bool Driver::Check(std::string* error, bool on_copy) {
  Options options;
  options.create_if_missing = true;
  options.buffer_pool_bytes = 8u << 20;
  options.lock_pool_memory = false;
  options.info_log = [](std::string_view) {};
  std::string path = f_.db;
  if (on_copy) {
    path = f_.db + ".check";
    std::error_code ec;
    fs::remove_all(path, ec);
    fs::copy(f_.db, path, fs::copy_options::recursive, ec);
    if (ec) {
      *error = "copying " + f_.db + " for the check: " + ec.message();
      return false;
    }
  }
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, path, &db);
  if (!s.ok()) {
    totals_.corrupt++;
    *error = "reopen failed: " + s.ToString();
    return false;
  }
  // Forward scan.
  std::map<std::string, std::string> seen;
  {
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    std::string prev;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key(it->key());
      if (!seen.empty() && key <= prev) {
        totals_.corrupt++;
        *error = "iterator out of order: " + key + " after " + prev;
        return false;
      }
      prev = key;
      int thread;
      uint32_t index;
      ValueId id;
      if (!ParseKey(key, &thread, &index) || thread >= f_.threads || index >= f_.keys ||
          !ParseValue(it->value(), key, &id)) {
        totals_.corrupt++;
        *error = "key that was never written (or a garbage value): " + key.substr(0, 40);
        return false;
      }
      seen[key] = std::string(it->value());
    }
    if (!it->status().ok()) {
      totals_.corrupt++;
      *error = "forward scan: " + it->status().ToString();
      return false;
    }
    // Backward scan sees the same.
    size_t count = 0;
    auto expect = seen.rbegin();
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++expect, ++count) {
      if (expect == seen.rend() || it->key() != expect->first || it->value() != expect->second) {
        totals_.corrupt++;
        *error = "backward scan differs from forward scan at " + std::string(it->key());
        return false;
      }
    }
    if (count != seen.size() || !it->status().ok()) {
      totals_.corrupt++;
      *error = "backward scan saw " + std::to_string(count) + " keys, forward " +
               std::to_string(seen.size()) + " (" + it->status().ToString() + ")";
      return false;
    }
  }
  // Point reads agree with the scan.
  for (int t = 0; t < f_.threads; t++) {
    for (uint32_t i = 0; i < f_.keys; i++) {
      std::string key = KeyName(t, i), value;
      Status g = db->Get(ReadOptions(), key, &value);
      auto it = seen.find(key);
      bool ok = it == seen.end() ? g.IsNotFound() : (g.ok() && value == it->second);
      if (!ok) {
        totals_.corrupt++;
        *error = "Get(" + key + ") = " + g.ToString() + " disagrees with the scan";
        return false;
      }
    }
  }
  // The journals.
  for (int t = 0; t < f_.threads; t++) {
    std::vector<JournalEntry> entries;
    std::string jerr;
    std::string path = JournalPath(journal_dir_, t);
    if (fs::exists(path) && !ReadJournal(path, &entries, &jerr)) {
      *error = jerr;
      totals_.corrupt++;
      return false;
    }
    uint64_t prefix = 0;
    if (!CheckThread(t, entries, seen, &prefix, error)) return false;
    if (f_.verbose) {
      std::fprintf(stderr, "  thread %d: %zu attempted, recovered prefix %llu\n", t,
                   entries.size(), static_cast<unsigned long long>(prefix));
    }
  }
  std::string report;
  s = db->Verify(&report);
  if (!s.ok()) {
    totals_.corrupt++;
    *error = "Verify: " + s.ToString() + "\n" + report;
    return false;
  }
  s = db->Close();
  if (!s.ok()) {
    totals_.corrupt++;
    *error = "Close after the check: " + s.ToString();
    return false;
  }
  if (on_copy) fs::remove_all(path);
  baseline_.clear();
  for (const auto& [k, v] : seen) baseline_[k] = Hash(v);
  return true;
}

bool Driver::Sabotage(std::string* what) {
  std::vector<JournalEntry> entries;
  std::string err;
  if (!ReadJournal(JournalPath(journal_dir_, 0), &entries, &err)) return false;
  uint64_t acked = 0;
  for (const JournalEntry& e : entries) acked += e.acked ? 1 : 0;
  if (acked == 0) return false;
  Options options;
  options.lock_pool_memory = false;
  options.info_log = [](std::string_view) {};
  std::unique_ptr<DB> db;
  if (!DB::Open(options, f_.db, &db).ok()) return false;
  WriteOptions wo;
  wo.sync = true;
  if (f_.self_test == "corrupt") {
    *what = "overwrote " + KeyName(0, 0) + " with a value no write produced";
    return db->Put(wo, KeyName(0, 0), "v1.0.1|" + KeyName(0, 0) + "|forged").ok() &&
           db->Close().ok();
  }
  // lost: undo the newest sync-acknowledged put whose key no later write touched.
  std::map<std::string, uint64_t> last_touch;
  for (const JournalEntry& e : entries) {
    for (const JournalOp& op : e.ops) last_touch[op.key] = e.seq;
  }
  for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
    if (!e->sync || !e->acked) continue;
    for (const JournalOp& op : e->ops) {
      if (!op.del && last_touch[op.key] == e->seq) {
        *what = "deleted " + op.key + ", written by sync-acknowledged seq " +
                std::to_string(e->seq);
        return db->Delete(wo, op.key).ok() && db->Close().ok();
      }
    }
  }
  return false;
}

int Driver::Run() {
  fs::remove_all(f_.db);
  fs::remove_all(journal_dir_);
  std::mt19937_64 rng(f_.seed);
  static const uint32_t kPageSizes[] = {4096, 4096, 8192, 16384};
  page_size_ = kPageSizes[rng() % 4];
  std::printf("crash_driver: seed %llu%s (replay: RINGDB_SEED=%llu or --seed %llu)\n",
              static_cast<unsigned long long>(f_.seed), f_.no_sync ? ", --no_sync" : "",
              static_cast<unsigned long long>(f_.seed), static_cast<unsigned long long>(f_.seed));
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  for (uint64_t cycle = 1; cycle <= f_.cycles; cycle++) {
    fs::remove_all(journal_dir_);
    fs::create_directories(journal_dir_);
    std::string error;
    const uint64_t kills_before = totals_.kills;
    bool ran = RunWriter(cycle, rng, &error);
    if (ran && !f_.self_test.empty()) {
      std::string what;
      // Only a killed writer with acknowledged writes makes a real test.
      if (totals_.kills == kills_before || !Sabotage(&what)) {
        std::printf("self test: nothing to sabotage in cycle %llu, trying the next\n",
                    static_cast<unsigned long long>(cycle));
        fs::remove_all(f_.db);
        baseline_.clear();
        continue;
      }
      bool caught = !Check(&error);
      std::printf("self test (%s): %s\n  check %s%s\n", f_.self_test.c_str(), what.c_str(),
                  caught ? "caught it: " : "MISSED it", caught ? error.c_str() : "");
      return caught ? 0 : 1;
    }
    // Sometimes check a copy, so the next writer replays the crashed log.
    const bool on_copy = ran && rng() % 3 == 0;
    bool ok = ran && Check(&error, on_copy);
    inherits_crashed_log_ = on_copy;
    if (on_copy) totals_.crashed_log_handoffs++;
    if (!ok) {
      std::printf("FAILED at cycle %llu (seed %llu): %s\n",
                  static_cast<unsigned long long>(cycle),
                  static_cast<unsigned long long>(f_.seed), error.c_str());
      std::printf("cycles %llu, lost %llu, corrupt %llu\n",
                  static_cast<unsigned long long>(cycle - 1),
                  static_cast<unsigned long long>(totals_.lost),
                  static_cast<unsigned long long>(totals_.corrupt));
      std::printf("kept %s and %s; replay (timing differs, so the crash point will too):\n"
                  "  crash_driver --seed %llu --cycles %llu --threads %d --keys %u "
                  "--kill_min_ms %llu --kill_max_ms %llu%s\n",
                  f_.db.c_str(), journal_dir_.c_str(), static_cast<unsigned long long>(f_.seed),
                  static_cast<unsigned long long>(cycle), f_.threads, f_.keys,
                  static_cast<unsigned long long>(f_.kill_min_ms),
                  static_cast<unsigned long long>(f_.kill_max_ms), f_.no_sync ? " --no_sync" : "");
      return 1;
    }
  }
  if (!f_.self_test.empty()) {
    std::printf("self test (%s): FAILED: no cycle of %llu could be sabotaged, so nothing was "
                "tested (seed %llu)\n",
                f_.self_test.c_str(), static_cast<unsigned long long>(f_.cycles),
                static_cast<unsigned long long>(f_.seed));
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("cycles %llu, lost %llu, corrupt %llu\n",
              static_cast<unsigned long long>(f_.cycles),
              static_cast<unsigned long long>(totals_.lost),
              static_cast<unsigned long long>(totals_.corrupt));
  std::printf("seed %llu, page size %u, %.1f s: %llu kills, %llu clean exits; writes "
              "attempted %llu, acknowledged %llu (sync %llu), unacknowledged but "
              "recovered %llu\n",
              static_cast<unsigned long long>(f_.seed), page_size_, secs,
              static_cast<unsigned long long>(totals_.kills),
              static_cast<unsigned long long>(totals_.clean_exits),
              static_cast<unsigned long long>(totals_.attempted),
              static_cast<unsigned long long>(totals_.acked),
              static_cast<unsigned long long>(totals_.sync_acked),
              static_cast<unsigned long long>(totals_.unacked_seen));
  std::printf("%llu cycles handed a crashed log to the next writer\n",
              static_cast<unsigned long long>(totals_.crashed_log_handoffs));
  if (totals_.kills == 0 || totals_.attempted == 0 || totals_.acked == 0) {
    std::printf("FAILED: the run tested nothing (kills %llu, attempted %llu, acknowledged %llu; "
                "seed %llu)\n",
                static_cast<unsigned long long>(totals_.kills),
                static_cast<unsigned long long>(totals_.attempted),
                static_cast<unsigned long long>(totals_.acked),
                static_cast<unsigned long long>(f_.seed));
    return 1;
  }
  fs::remove_all(f_.db);
  fs::remove_all(journal_dir_);
  return 0;
}

}  // namespace
}  // namespace ringdb::stress

int main(int argc, char** argv) {
  ringdb::stress::Flags flags;
  if (!ringdb::stress::ParseFlags(argc, argv, &flags)) return 2;
  ringdb::stress::Driver driver(flags);
  return driver.Run();
}
