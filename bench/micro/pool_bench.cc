// pool_bench: the eviction policies compared on the real buffer pool.
//
// For every policy and trace it opens a cold BufferPool of --frames frames
// over one file of --pages pages, read and written with O_DIRECT through
// the io_uring backend (the pread fallback when io_uring is refused, said
// on stderr), replays the trace with one Fetch per access, and prints
// ops/s, hit ratio, misses, reads, writes and evictions. The file is filled
// first through a pool (NewPage + MarkDirty + FlushAll) and removed at the
// end. --simulate replays the same traces through the policies alone (a
// page -> frame map, one victim per miss, no I/O) to compare hit ratios
// quickly; the pool evicts in batches, so its figures differ slightly.
//
// Single-threaded: one thread issues every request.
//
// --hits measures the hit path instead: a pool of --frames frames holds
// frames / 2 pages created in memory (no reads), and --threads threads
// fetch random pages among them (shared latch, read a word, release; or,
// with --optimistic, FetchOptimistic + read + Validate) for --ops requests
// each; it prints the total requests per second.
#include <gflags/gflags.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "bench/micro/trace.h"
#include "bench_util.h"
#include "bufferpool/buffer_pool.h"
#include "bufferpool/page.h"
#include "io/io_backend.h"
#include "ringdb/eviction_policy.h"

DEFINE_uint32(frames, 1024, "buffer pool frames (4 KiB each)");
DEFINE_uint64(pages, 0, "pages in the file; 0 means 10 * frames");
DEFINE_uint64(ops, 100000, "page accesses per trace");
DEFINE_string(policy, "all", "comma-separated policy names, or all");
DEFINE_string(trace, "all", "zipf, scan or all");
DEFINE_string(file, ".", "directory for the data file (must support O_DIRECT)");
DEFINE_bool(simulate, false, "replay the traces through the policies only, no I/O");
DEFINE_double(theta, 0.99, "Zipfian skew");
DEFINE_uint64(scan_len, 0, "pages per scan in the scan trace; 0 means 2 * frames");
DEFINE_double(scan_share, 0.3, "share of the scan trace's accesses that belong to scans");
DEFINE_uint64(seed, 42, "trace seed");
DEFINE_bool(hits, false, "measure in-memory hits with --threads threads instead");
DEFINE_uint32(threads, 1, "threads for --hits");
DEFINE_bool(mrc, true, "sample accesses for the miss-ratio curve (bufferpool/mrc.h)");
DEFINE_double(mrc_rate, 0, "miss-ratio curve sampling rate; 0 picks it from the pool size");
DEFINE_bool(optimistic, false, "--hits through FetchOptimistic instead of shared latches");

namespace ringdb::bench {
namespace {

constexpr uint32_t kPageSize = 4096;

struct RunResult {
  std::string policy;
  std::string trace;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t evictions = 0;
};

using bench_common::SplitList;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The policy alone over `frames` frames: one victim per miss.
Status Simulate(const std::string& policy_name, const std::string& trace_name,
                const std::vector<uint64_t>& trace, uint32_t frames, RunResult* out) {
  RunResult r{policy_name, trace_name};
  std::unique_ptr<EvictionPolicy> policy = NewEvictionPolicy(policy_name);
  policy->Init(frames);
  std::unordered_map<uint64_t, FrameIndex> table;
  table.reserve(frames * 2);
  std::vector<uint64_t> frame_page(frames);
  FrameIndex next_free = 0;
  struct AcceptAll : FrameFilter {
    bool CanEvict(FrameIndex) const override { return true; }
  } all;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t page : trace) {
    auto it = table.find(page);
    if (it != table.end()) {
      policy->OnAccess(it->second);
      ++r.hits;
      continue;
    }
    ++r.misses;
    FrameIndex f;
    if (next_free < frames) {
      f = next_free++;
    } else {
      if (!policy->Victim(all, &f)) {
        return Status::Corruption(policy_name + ": no victim with every frame evictable");
      }
      table.erase(frame_page[f]);
      policy->OnRemove(f);
      ++r.evictions;
    }
    frame_page[f] = page;
    table[page] = f;
    policy->OnInsert(f);
  }
  r.seconds = Seconds(start);
  r.ops = trace.size();
  *out = r;
  return Status::OK();
}

BufferPoolOptions PoolOptions(const std::string& policy_name) {
  BufferPoolOptions o;
  o.pool_bytes = static_cast<size_t>(FLAGS_frames) * kPageSize;
  o.page_size = kPageSize;
  o.policy_name = policy_name;
  o.miss_ratio_curve = FLAGS_mrc;
  if (FLAGS_mrc_rate > 0) o.mrc.initial_rate = FLAGS_mrc_rate;
  return o;
}

// Writes pages [0, pages) through a pool, each holding its id after the
// header, then flushes and syncs.
Status FillFile(io::IoBackend* io, io::FileId file, uint64_t pages) {
  std::string notice;
  Result<std::unique_ptr<BufferPool>> pool =
      BufferPool::Create(PoolOptions("clock"), io, file, nullptr, &notice);
  if (!pool.ok()) return pool.status();
  if (!notice.empty()) std::fprintf(stderr, "pool_bench: %s\n", notice.c_str());
  for (uint64_t p = 0; p < pages; ++p) {
    Result<PageGuard> g = (*pool)->NewPage(PageId{p});
    if (!g.ok()) return g.status();
    std::memcpy(g->mutable_data() + kPageHeaderSize, &p, sizeof(p));
    g->MarkDirty(Lsn());
  }
  return (*pool)->FlushAll();
}

// Replays `trace` on a cold pool; checks every page holds its own id.
Status RunPool(io::IoBackend* io, io::FileId file, const std::string& policy_name,
               const std::string& trace_name, const std::vector<uint64_t>& trace,
               RunResult* r) {
  std::string notice;
  Result<std::unique_ptr<BufferPool>> pool =
      BufferPool::Create(PoolOptions(policy_name), io, file, nullptr, &notice);
  if (!pool.ok()) return pool.status();
  *r = RunResult{policy_name, trace_name};
  auto start = std::chrono::steady_clock::now();
  for (uint64_t page : trace) {
    Result<PageGuard> g = (*pool)->Fetch(PageId{page}, LatchMode::kShared);
    if (!g.ok()) return g.status().WithContext("page " + std::to_string(page));
    uint64_t stored;
    std::memcpy(&stored, g->data() + kPageHeaderSize, sizeof(stored));
    if (stored != page) {
      return Status::Corruption("page " + std::to_string(page) + " holds " +
                                std::to_string(stored));
    }
  }
  r->seconds = Seconds(start);
  r->ops = trace.size();
  PoolStats s = (*pool)->stats();
  r->hits = s.hits;
  r->misses = s.misses;
  r->reads = s.reads;
  r->writes = s.writes;
  r->evictions = s.evictions;
  return Status::OK();
}

// Runs `fn` with `path` opened on a fresh io_uring backend (pread when
// io_uring is refused, said once on stderr). Each pool gets its own backend,
// so no buffer registration outlives the pool that made it.
Status WithPoolFile(const std::string& path, io::OpenMode mode,
                    const std::function<Status(io::IoBackend*, io::FileId)>& fn) {
  static bool fallback_reported = false;
  Result<io::BackendChoice> choice = io::NewIoBackend(IoBackendKind::kIoUring);
  if (!choice.ok()) return choice.status();
  io::IoBackend* io = choice->backend.get();
  if (!choice->fallback_reason.empty() && !fallback_reported) {
    std::fprintf(stderr, "pool_bench: %s\n", choice->fallback_reason.c_str());
    fallback_reported = true;
  }
  Result<io::FileId> file = io->Open(path, mode);
  if (!file.ok()) return file.status();
  Status s = fn(io, *file);
  Status closed = io->Close(*file);
  return s.ok() ? closed : s;
}

void PrintTable(const std::vector<RunResult>& rows, bool simulated) {
  std::printf("%-9s %-6s %12s %8s %10s %10s %10s %10s\n", "policy", "trace",
              simulated ? "sim_ops/s" : "ops/s", "hit%", "misses", "reads", "writes",
              "evictions");
  for (const RunResult& r : rows) {
    double total = static_cast<double>(r.hits + r.misses);
    std::printf("%-9s %-6s %12.0f %8.2f %10llu %10s %10s %10llu\n", r.policy.c_str(),
                r.trace.c_str(), r.seconds > 0 ? r.ops / r.seconds : 0.0,
                total > 0 ? 100.0 * r.hits / total : 0.0,
                static_cast<unsigned long long>(r.misses),
                simulated ? "-" : std::to_string(r.reads).c_str(),
                simulated ? "-" : std::to_string(r.writes).c_str(),
                static_cast<unsigned long long>(r.evictions));
  }
}

// One thread's share of --hits: `ops` random fetches among `pages` pages.
Status HitLoop(BufferPool* pool, uint64_t pages, uint64_t ops, uint64_t seed, uint64_t* sum) {
  std::mt19937_64 rng(seed);
  uint64_t local = 0;  // summed here, not in *sum: threads' sums share a line
  for (uint64_t i = 0; i < ops; i++) {
    PageId id{rng() % pages};
    uint64_t stored;
    if (FLAGS_optimistic) {
      for (;;) {
        Result<OptimisticGuard> o = pool->FetchOptimistic(id);
        if (!o.ok()) return o.status();
        std::memcpy(&stored, o->data() + kPageHeaderSize, sizeof(stored));
        if (o->Validate()) break;
      }
    } else {
      Result<PageGuard> g = pool->Fetch(id, LatchMode::kShared);
      if (!g.ok()) return g.status();
      std::memcpy(&stored, g->data() + kPageHeaderSize, sizeof(stored));
    }
    if (stored != id.value) return Status::Corruption("page " + std::to_string(id.value));
    local += stored;
  }
  *sum = local;
  return Status::OK();
}

int RunHits(io::IoBackend* io, io::FileId file) {
  std::string notice;
  Result<std::unique_ptr<BufferPool>> pool =
      BufferPool::Create(PoolOptions(FLAGS_policy == "all" ? "clock" : FLAGS_policy), io, file,
                         nullptr, &notice);
  if (!pool.ok()) {
    std::fprintf(stderr, "pool_bench: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  const uint64_t pages = FLAGS_frames / 2;
  for (uint64_t p = 0; p < pages; ++p) {
    Result<PageGuard> g = (*pool)->NewPage(PageId{p});
    if (!g.ok()) return 1;
    std::memcpy(g->mutable_data() + kPageHeaderSize, &p, sizeof(p));
    g->MarkDirty(Lsn());
  }
  std::vector<std::thread> threads;
  std::vector<Status> status(FLAGS_threads);
  std::vector<uint64_t> sums(FLAGS_threads, 0);
  auto start = std::chrono::steady_clock::now();
  for (uint32_t t = 0; t < FLAGS_threads; t++) {
    threads.emplace_back([&, t] {
      status[t] = HitLoop(pool->get(), pages, FLAGS_ops, FLAGS_seed + t, &sums[t]);
    });
  }
  for (std::thread& t : threads) t.join();
  double secs = Seconds(start);
  for (const Status& s : status) {
    if (!s.ok()) {
      std::fprintf(stderr, "pool_bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::printf("hits  policy %s  frames %u  pages %llu  threads %u  %s  %.0f ops/s\n",
              (*pool)->policy_name(), FLAGS_frames, static_cast<unsigned long long>(pages),
              FLAGS_threads, FLAGS_optimistic ? "optimistic" : "shared",
              FLAGS_threads * FLAGS_ops / secs);
  return 0;
}

int Main() {
  if (FLAGS_frames < 2) {
    std::fprintf(stderr, "pool_bench: --frames must be at least 2\n");
    return 2;
  }
  if (FLAGS_hits) {
    const std::string path = FLAGS_file + "/pool_bench." + std::to_string(getpid()) + ".dat";
    int rc = 0;
    Status s = WithPoolFile(path, io::OpenMode::kCreateReadWrite,
                            [&](io::IoBackend* io, io::FileId file) {
                              rc = RunHits(io, file);
                              return Status::OK();
                            });
    unlink(path.c_str());
    if (!s.ok()) std::fprintf(stderr, "pool_bench: %s\n", s.ToString().c_str());
    return s.ok() ? rc : 1;
  }
  const uint64_t pages = FLAGS_pages != 0 ? FLAGS_pages : 10ull * FLAGS_frames;
  std::vector<std::string> policies =
      FLAGS_policy == "all" ? EvictionPolicyNames() : SplitList(FLAGS_policy);
  for (const std::string& p : policies) {
    if (NewEvictionPolicy(p) == nullptr) {
      std::fprintf(stderr, "pool_bench: unknown policy '%s'\n", p.c_str());
      return 2;
    }
  }
  std::vector<std::string> traces =
      FLAGS_trace == "all" ? std::vector<std::string>{"zipf", "scan"} : SplitList(FLAGS_trace);
  TraceOptions to;
  to.pages = pages;
  to.ops = FLAGS_ops;
  to.theta = FLAGS_theta;
  to.seed = FLAGS_seed;
  to.scan_len = FLAGS_scan_len != 0 ? FLAGS_scan_len : 2ull * FLAGS_frames;
  to.scan_share = FLAGS_scan_share;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> generated;
  for (const std::string& t : traces) {
    if (t == "zipf") {
      generated.emplace_back(t, ZipfTrace(to));
    } else if (t == "scan") {
      generated.emplace_back(t, ScanMixTrace(to));
    } else {
      std::fprintf(stderr, "pool_bench: unknown trace '%s' (zipf, scan, all)\n", t.c_str());
      return 2;
    }
  }
  std::printf("frames %u  pages %llu  ops %llu  theta %.2f  scan_len %llu  scan_share %.2f\n",
              FLAGS_frames, static_cast<unsigned long long>(pages),
              static_cast<unsigned long long>(to.ops), to.theta,
              static_cast<unsigned long long>(to.scan_len), to.scan_share);

  std::vector<RunResult> rows;
  if (FLAGS_simulate) {
    for (const auto& [trace_name, trace] : generated) {
      for (const std::string& p : policies) {
        RunResult r;
        Status s = Simulate(p, trace_name, trace, FLAGS_frames, &r);
        if (!s.ok()) {
          std::fprintf(stderr, "pool_bench: %s\n", s.ToString().c_str());
          return 1;
        }
        rows.push_back(r);
      }
    }
    PrintTable(rows, true);
    return 0;
  }

  const std::string path = FLAGS_file + "/pool_bench." + std::to_string(getpid()) + ".dat";
  Status s = WithPoolFile(path, io::OpenMode::kCreateReadWrite,
                          [&](io::IoBackend* io, io::FileId file) {
                            std::printf("backend %s  file %s\n", io->Name().c_str(), path.c_str());
                            return FillFile(io, file, pages);
                          });
  for (const auto& [trace_name, trace] : generated) {
    for (size_t i = 0; s.ok() && i < policies.size(); ++i) {
      RunResult r;
      s = WithPoolFile(path, io::OpenMode::kReadWrite, [&](io::IoBackend* io, io::FileId file) {
        return RunPool(io, file, policies[i], trace_name, trace, &r);
      });
      if (s.ok()) rows.push_back(r);
    }
  }
  unlink(path.c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "pool_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  PrintTable(rows, false);
  return 0;
}

}  // namespace
}  // namespace ringdb::bench

int main(int argc, char** argv) {
  gflags::SetUsageMessage("buffer-pool eviction policies on Zipfian and scan-mixed traces");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return ringdb::bench::Main();
}
