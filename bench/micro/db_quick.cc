// db_quick: Put then Get rates of N random 16-byte keys with 100-byte values
// through the public API for a given pool size: one thread puts, then
// --threads=T threads (default 1) each get --gets=G random keys (default
// N) at once. The quick check quoted in the engine's closing note;
// ringdb_bench is the full one.
//   db_quick [--threads=T] [--gets=G] [N=1000000] [POOL_MIB=512] [DIR=/tmp/ringdb_db_quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ringdb/db.h"

int main(int argc, char** argv) {
  size_t threads = 1;
  size_t gets = 0;
  std::vector<const char*> args;
  for (int i = 1; i < argc; i++) {
    std::string_view a(argv[i]);
    if (a.starts_with("--threads=")) {
      threads = std::max<size_t>(1, std::strtoull(argv[i] + 10, nullptr, 10));
    } else if (a.starts_with("--gets=")) {
      gets = std::strtoull(argv[i] + 7, nullptr, 10);
    } else {
      args.push_back(argv[i]);
    }
  }
  const size_t n = args.size() > 0 ? std::strtoull(args[0], nullptr, 10) : 1000000;
  const size_t pool_mib = args.size() > 1 ? std::strtoull(args[1], nullptr, 10) : 512;
  const std::string dir = args.size() > 2 ? args[2] : "/tmp/ringdb_db_quick";
  if (gets == 0) gets = n;
  std::filesystem::remove_all(dir);
  ringdb::Options options;
  options.buffer_pool_bytes = pool_mib << 20;
  std::unique_ptr<ringdb::DB> db;
  ringdb::Status s = ringdb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.ToString().c_str());
    return 1;
  }
  std::mt19937_64 rng(1);
  std::vector<uint64_t> keys(n);
  for (uint64_t& k : keys) k = rng();
  char key[17];
  const std::string value(100, 'v');
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  for (size_t i = 0; i < n; i++) {
    std::snprintf(key, sizeof(key), "%016llx", static_cast<unsigned long long>(keys[i]));
    s = db->Put(ringdb::WriteOptions(), std::string_view(key, 16), value);
    if (!s.ok()) {
      std::fprintf(stderr, "put: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  auto t1 = Clock::now();
  std::vector<size_t> found_by(threads, 0);
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; t++) {
    workers.emplace_back([&, t] {
      std::mt19937_64 r(2 + t);
      std::string got;
      char k[17];
      for (size_t i = 0; i < gets; i++) {
        std::snprintf(k, sizeof(k), "%016llx", static_cast<unsigned long long>(keys[r() % n]));
        if (db->Get(ringdb::ReadOptions(), std::string_view(k, 16), &got).ok()) found_by[t]++;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  auto t2 = Clock::now();
  size_t found = 0;
  for (size_t f : found_by) found += f;
  double put_s = std::chrono::duration<double>(t1 - t0).count();
  double get_s = std::chrono::duration<double>(t2 - t1).count();
  std::string file_bytes, hit_ratio;
  db->GetProperty("ringdb.store.file_bytes", &file_bytes);
  db->GetProperty("ringdb.pool.hit_ratio", &hit_ratio);
  std::printf("keys %zu  pool %zu MiB  file %.1f MiB  put %.0f ops/s  get %.0f ops/s "
              "(%zu threads)  hit ratio %s  found %zu/%zu\n",
              n, pool_mib, std::stod(file_bytes) / (1 << 20), n / put_s,
              gets * threads / get_s, threads, hit_ratio.c_str(), found, gets * threads);
  s = db->Close();
  std::filesystem::remove_all(dir);
  return s.ok() && found == gets * threads ? 0 : 1;
}
