// Readings from /proc and the file system: what the process and the kernel
// spent (memory, page cache, device bytes) and what machine ran the bench.
//
// Thread-safety: every function may be called from any thread; they read
// kernel files and share no state.
#pragma once

#include <cstdint>
#include <string>

#include "bench_util.h"

namespace ringdb_bench {

struct ProcSample {
  uint64_t rss_bytes = 0;          // /proc/self/statm resident * page size
  uint64_t hwm_bytes = 0;          // VmHWM of /proc/self/status
  uint64_t rss_anon_bytes = 0;     // RssAnon of /proc/self/status (no file pages)
  uint64_t page_cache_bytes = 0;   // "Cached:" of /proc/meminfo
  uint64_t dev_read_bytes = 0;     // read_bytes of /proc/self/io
  uint64_t dev_write_bytes = 0;    // write_bytes of /proc/self/io
  bool io_available = false;       // /proc/self/io was readable
};

ProcSample SampleProc();

// Resets VmHWM to the current RSS (writes "5" to /proc/self/clear_refs,
// Linux >= 4.0) so that a phase's peak can be read. False when refused.
bool ResetPeakRss();

struct MachineInfo {
  int nproc = 0;
  uint64_t mem_total_bytes = 0;
  std::string kernel;     // uname -r
  std::string cpu_model;  // "model name" of /proc/cpuinfo
  std::string hostname;
};

MachineInfo GetMachineInfo();

// Free bytes for an unprivileged writer on the file system holding `path`
// (or its nearest existing ancestor); -1 when unknown.
int64_t FreeBytes(const std::string& path);

// Total size of the regular files under `dir`; 0 when it does not exist.
uint64_t DirectoryBytes(const std::string& dir);

// The regular files under `dir` (zeros when it does not exist): their total
// size, and the disk space allocated to them (st_blocks, as du counts: less
// than the size where a file has holes, more where space was preallocated).
struct DiskUsage {
  uint64_t file_bytes = 0;
  uint64_t allocated_bytes = 0;
};
DiskUsage DiskUsageOf(const std::string& dir);

// Bytes of the regular files under `dir` that the kernel page cache holds
// now (mmap + mincore per file): the page cache this database's files use,
// unlike "Cached:", which counts every process on the machine.
uint64_t PageCacheBytesOf(const std::string& dir);

// `git -C source_dir rev-parse --short HEAD`, or "unknown".
std::string GitCommit(const std::string& source_dir);

// RunCommand and ShellQuote (bench/common/bench_util.h).
using bench_common::RunCommand;
using bench_common::ShellQuote;

}  // namespace ringdb_bench
