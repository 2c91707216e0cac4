// db_quick: Put then Get rates of N random 16-byte keys with 100-byte values
// through the public API, one thread, for a given pool size. The quick
// check quoted in the engine's closing note; ringdb_bench is the full one.
//   db_quick [N=1000000] [POOL_MIB=512] [DIR=/tmp/ringdb_db_quick]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ringdb/db.h"

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t pool_mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 512;
  const std::string dir = argc > 3 ? argv[3] : "/tmp/ringdb_db_quick";
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
  std::string got;
  size_t found = 0;
  for (size_t i = 0; i < n; i++) {
    std::snprintf(key, sizeof(key), "%016llx", static_cast<unsigned long long>(keys[rng() % n]));
    if (db->Get(ringdb::ReadOptions(), std::string_view(key, 16), &got).ok()) found++;
  }
  auto t2 = Clock::now();
  double put_s = std::chrono::duration<double>(t1 - t0).count();
  double get_s = std::chrono::duration<double>(t2 - t1).count();
  std::string file_bytes, hit_ratio;
  db->GetProperty("ringdb.store.file_bytes", &file_bytes);
  db->GetProperty("ringdb.pool.hit_ratio", &hit_ratio);
  std::printf("keys %zu  pool %zu MiB  file %.1f MiB  put %.0f ops/s  get %.0f ops/s  "
              "hit ratio %s  found %zu/%zu\n",
              n, pool_mib, std::stod(file_bytes) / (1 << 20), n / put_s, n / get_s,
              hit_ratio.c_str(), found, n);
  s = db->Close();
  std::filesystem::remove_all(dir);
  return s.ok() && found == n ? 0 : 1;
}
