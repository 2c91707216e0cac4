// DB properties ("ringdb.stats", the single numbers, and
// "ringdb.btree.fill", which walks the tree). The iterators are in
// db_iterators.cc.
#include <cstdio>
#include <map>

#include "engine/btree.h"
#include "engine/db_impl.h"

namespace ringdb {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

std::string Ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", r);
  return buf;
}

std::string Bytes(uint64_t b) {
  char buf[32];
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// "ringdb.btree.fill": the tree's density (BTree::ComputeFill, a walk of
// every page), as name=value pairs; *line gets the `stats` line. False when
// the walk failed (*value then says why).
bool BTreeFill(BTree* tree, std::string* value, std::string* line) {
  BTree::FillStats f;
  Status s = tree->ComputeFill(&f);
  if (!s.ok()) {
    *value = "error: " + s.ToString();
    *line = "btree: fill unavailable: " + s.ToString() + "\n";
    return false;
  }
  double per_byte = f.live_page_bytes == 0 ? 0.0
                                           : static_cast<double>(f.user_bytes) / f.live_page_bytes;
  *value = "leaf_fill=" + Ratio(f.leaf_fill) + " inner_fill=" + Ratio(f.inner_fill) +
           " leaf_pages=" + Num(f.leaf_pages) + " inner_pages=" + Num(f.inner_pages) +
           " overflow_pages=" + Num(f.overflow_pages) + " entries=" + Num(f.entries) +
           " user_bytes=" + Num(f.user_bytes) + " live_page_bytes=" + Num(f.live_page_bytes) +
           " user_bytes_per_page_byte=" + Ratio(per_byte);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * f.leaf_fill);
  *line = "btree: leaf fill " + std::string(buf) + " of " + Num(f.leaf_pages) + " pages, ";
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * f.inner_fill);
  *line += "inner fill " + std::string(buf) + " of " + Num(f.inner_pages) + ", " +
           Num(f.overflow_pages) + " overflow pages; user data " + Bytes(f.user_bytes) + ", " +
           Ratio(per_byte) + " per live page byte\n";
  return true;
}

// The cache-insight properties, from the pool's miss-ratio curve
// (bufferpool/mrc.h): "ringdb.cache.mrc" (BYTES<TAB>MISS_RATIO per size,
// 1/8x to 8x the pool, increasing), "ringdb.cache.mrc_samples" and
// "ringdb.cache.policies" (NAME<TAB>SIMULATED_MISS_RATIO, "<TAB>in use"
// after the current policy). False for other names or without a curve.
bool CacheInsightProperty(BufferPool* pool, std::string_view name, std::string* value) {
  MissRatioCurve* mrc = pool->mrc();
  if (mrc == nullptr) return false;
  char buf[96];
  if (name == "ringdb.cache.mrc") {
    value->clear();
    for (const MrcPoint& p : mrc->Curve()) {
      std::snprintf(buf, sizeof(buf), "%llu\t%.4f\n",
                    static_cast<unsigned long long>(p.frames * pool->page_size()), p.miss_ratio);
      *value += buf;
    }
    return true;
  }
  if (name == "ringdb.cache.mrc_samples") {
    *value = Num(mrc->samples());
    return true;
  }
  if (name == "ringdb.cache.policies") {
    value->clear();
    std::string_view current = pool->policy_name();
    for (const PolicyEstimate& e : mrc->Policies()) {
      std::snprintf(buf, sizeof(buf), "%s\t%.4f%s\n", e.name.c_str(), e.miss_ratio,
                    e.name == current ? "\tin use" : "");
      *value += buf;
    }
    return true;
  }
  return false;
}

}  // namespace

std::string HumanBytes(uint64_t bytes) { return Bytes(bytes); }

DBImpl::StatsSnapshot DBImpl::TakeStats() {
  StatsSnapshot t;
  t.pool = pool_->stats();
  t.io = io_->stats();
  t.store = store_->stats();
  wal::LogWriterStats ls;
  std::shared_lock<std::shared_mutex> lock(wal_mu_);
  if (wal_) ls = wal_->stats();
  t.log_segment = segment_;
  t.log_records = ls.records;
  t.log_bytes_written = log_bytes_written_before_ + ls.bytes_written;
  t.log_syncs = log_syncs_before_ + ls.syncs;
  t.log_group_commits = log_group_commits_before_ + ls.group_commits;
  return t;
}

bool DBImpl::WriteStateProperty(std::string_view name, std::string* value) {
  if (name != "ringdb.background_error" && name != "ringdb.read_only_reason" &&
      name != "ringdb.resumes") {
    return false;
  }
  MutexLock lock(&error_mu_);
  if (name == "ringdb.background_error") {
    *value = bg_error_.ToString();
  } else if (name == "ringdb.resumes") {
    *value = Num(resumes_);
  } else if (options_.read_only) {
    *value = snapshot_reader_ ? "opened read-only beside a writer (last checkpoint only)"
                              : "opened read-only";
  } else if (bg_severity_ == Severity::kSoft) {
    *value = bg_what_ + " (" + bg_error_.ToString() + "); call Resume() once the cause is " +
             "fixed" + (options_.auto_resume_interval_ms > 0 ? " (it is retried automatically)"
                                                            : "");
  } else if (bg_severity_ == Severity::kHard) {
    *value = bg_what_ + " (" + bg_error_.ToString() + "); close and reopen the database";
  } else {
    value->clear();
  }
  return true;
}

DBImpl::PropertyMap DBImpl::CounterProperties() {
  const StatsSnapshot t = TakeStats();
  const PoolStats& p = t.pool;
  const io::IoStats& io = t.io;
  const PageStoreStats& st = t.store;
  const VersionStore::Stats vs = versions_->stats();
  const DeleteBuffer::Stats ds = deletes_->stats();
  const RowCache::Stats rs = rows_->stats();
  const CacheSplit sp = split_snapshot();
  return {
      {"ringdb.pool.hits", Num(p.hits)},
      {"ringdb.pool.misses", Num(p.misses)},
      {"ringdb.pool.hit_ratio", Ratio(p.HitRatio())},
      {"ringdb.pool.reads", Num(p.reads)},
      {"ringdb.pool.writes", Num(p.writes)},
      {"ringdb.pool.evictions", Num(p.evictions)},
      {"ringdb.pool.bytes_read", Num(p.bytes_read)},
      {"ringdb.pool.bytes_written", Num(p.bytes_written)},
      {"ringdb.pool.dirty_pages", Num(p.dirty_pages)},
      {"ringdb.pool.frames", Num(p.frames)},
      {"ringdb.pool.used_frames", Num(p.used_frames)},
      {"ringdb.pool.bytes", Num(p.frames * pool_->page_size())},
      {"ringdb.pool.policy", pool_->policy_name()},
      {"ringdb.page_size", Num(pool_->page_size())},
      {"ringdb.io.backend", io_->Name()},
      {"ringdb.io.reads", Num(io.reads)},
      {"ringdb.io.writes", Num(io.writes)},
      {"ringdb.io.bytes_read", Num(io.bytes_read)},
      {"ringdb.io.bytes_written", Num(io.bytes_written)},
      {"ringdb.io.syncs", Num(io.syncs)},
      {"ringdb.io.submits", Num(io.submits)},
      {"ringdb.io.fixed_ops", Num(io.fixed_ops)},
      {"ringdb.log.records", Num(t.log_records)},
      {"ringdb.log.bytes_written", Num(t.log_bytes_written)},
      {"ringdb.log.syncs", Num(t.log_syncs)},
      {"ringdb.log.group_commits", Num(t.log_group_commits)},
      {"ringdb.store.live_pages", Num(st.live_pages)},
      {"ringdb.store.slots", Num(st.slots)},
      {"ringdb.store.free_slots", Num(st.free_slots)},
      {"ringdb.store.file_bytes", Num(st.slots * pool_->page_size())},
      {"ringdb.store.disk_bytes", Num(DiskBytes())},
      {"ringdb.store.truncated_slots", Num(st.truncated_slots)},
      {"ringdb.store.held_slots", Num(st.held_slots)},
      {"ringdb.checkpoints", Num(checkpoints_.load())},
      {"ringdb.checkpoint.pages_written", Num(checkpoint_pages_.load())},
      {"ringdb.cleaner.pages_written", Num(cleaner_pages_.load())},
      {"ringdb.checkpoints_for_space", Num(checkpoints_for_space_.load())},
      {"ringdb.compact.sparse_checks", Num(sparse_checks_.load())},
      {"ringdb.compact.sparse_compactions", Num(sparse_compacts_.load())},
      {"ringdb.compact.idle_stops", Num(idle_stops_.load())},
      {"ringdb.compact.sparse_deferred", Num(sparse_deferred_.load())},
      {"ringdb.compact.sampled_leaf_fill",
       Ratio(static_cast<double>(last_sampled_fill_permille_.load()) / 1000)},
      {"ringdb.recovered_records", Num(recovered_records_.load())},
      {"ringdb.notices", Notices()},
      {"ringdb.snapshots.count", Num(vs.snapshots)},
      {"ringdb.snapshots.oldest_age_ms", Num(vs.oldest_age_ms)},
      {"ringdb.snapshots.oldest_sequence", Num(vs.oldest_lsn)},
      {"ringdb.snapshots.retained_bytes", Num(vs.retained_bytes)},
      {"ringdb.snapshots.retained_versions", Num(vs.retained_versions)},
      {"ringdb.snapshots.retained_keys", Num(vs.retained_keys)},
      {"ringdb.snapshots.expired", Num(vs.expired)},
      {"ringdb.snapshots.reclaimed_versions", Num(vs.reclaimed_versions)},
      {"ringdb.delete_buffer.entries", Num(ds.entries)},
      {"ringdb.delete_buffer.unapplied", Num(ds.unapplied)},
      {"ringdb.delete_buffer.bytes", Num(ds.bytes)},
      {"ringdb.delete_buffer.max_bytes", Num(ds.max_bytes)},
      {"ringdb.delete_buffer.buffered", Num(ds.buffered)},
      {"ringdb.delete_buffer.applied", Num(ds.applied)},
      {"ringdb.row_cache.capacity", Num(rs.capacity)},
      {"ringdb.row_cache.entries", Num(rs.entries)},
      {"ringdb.row_cache.bytes", Num(rs.bytes)},
      {"ringdb.row_cache.hits", Num(rs.hits)},
      {"ringdb.row_cache.misses", Num(rs.misses)},
      {"ringdb.row_cache.fills", Num(rs.fills)},
      {"ringdb.row_cache.refused", Num(rs.refused)},
      {"ringdb.row_cache.evictions", Num(rs.evictions)},
      {"ringdb.row_cache.adaptive", sp.on ? "1" : "0"},
      {"ringdb.row_cache.on",
       rows_->enabled() && rows_on_.load(std::memory_order_relaxed) ? "1" : "0"},
      {"ringdb.row_cache.moves_to_rows", Num(sp.moves_to_rows)},
      {"ringdb.row_cache.moves_to_pool", Num(sp.moves_to_pool)},
  };
}

std::string DBImpl::PropertyNames(const PropertyMap& counters) {
  std::string out =
      "ringdb.background_error\nringdb.read_only_reason\nringdb.read_only_snapshot\n"
      "ringdb.resumes\nringdb.stats\n"
      "ringdb.estimate-num-keys\n";
  if (pool_->mrc() != nullptr) {
    out += "ringdb.cache.mrc\nringdb.cache.mrc_samples\nringdb.cache.policies\n";
  }
  for (const auto& [k, v] : counters) out += k + "\n";
  out += "ringdb.btree.fill\nringdb.btree.fill-summary\n";
  return out;
}

bool DBImpl::GetProperty(std::string_view name, std::string* value) {
  if (CheckOpen().ok() == false) return false;
  // The write state, answered without touching the rest (cheap to poll).
  if (WriteStateProperty(name, value)) return true;
  if (name == "ringdb.read_only_snapshot") {
    *value = snapshot_note_;  // set once at open
    return true;
  }
  // O(pages): computed only when asked for (not part of ringdb.stats, which
  // must stay cheap to poll).
  if (name == "ringdb.btree.fill" || name == "ringdb.btree.fill-summary") {
    std::string pairs, line;
    BTreeFill(tree_.get(), &pairs, &line);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    *value = name == "ringdb.btree.fill" ? pairs : line;
    return true;
  }
  if (name.starts_with("ringdb.cache.")) return CacheInsightProperty(pool_.get(), name, value);
  if (name == "ringdb.estimate-num-keys") {
    // The leaves' cell counts (no value or overflow page is read): exact for
    // a quiet database, approximate while writers run.
    *value = Num(tree_->ApproximateCount());
    return true;
  }
  if (name == "ringdb.stats") {
    *value = StatsString();
    return true;
  }
  const PropertyMap counters = CounterProperties();
  if (name == "ringdb.properties") {
    *value = PropertyNames(counters);
    return true;
  }
  auto it = counters.find(name);
  if (it == counters.end()) return false;
  *value = it->second;
  return true;
}

Status DBImpl::SetEvictionPolicy(std::string_view name) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  std::unique_ptr<EvictionPolicy> policy = NewEvictionPolicy(name);
  if (policy == nullptr) {
    return Status::InvalidArgument("unknown eviction policy '" + std::string(name) + "'");
  }
  return pool_->SetPolicy(std::move(policy));
}

Status DBImpl::SetEvictionPolicy(std::shared_ptr<EvictionPolicy> policy) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  return pool_->SetPolicy(std::move(policy));
}

Status DBImpl::SetBufferPoolBytes(size_t bytes) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  // With the adaptive split, bytes is the whole budget (db_cache_balance.cc).
  if (split_on()) return SetSplitBudget(bytes);
  return pool_->Resize(bytes);
}

uint64_t DBImpl::DiskBytes() {
  Result<uint64_t> b = io_->AllocatedBytes(data_file_);
  return b.ok() ? *b : 0;
}

std::string DBImpl::StatsString() {
  const StatsSnapshot t = TakeStats();
  const PoolStats& p = t.pool;
  const io::IoStats& io = t.io;
  const PageStoreStats& st = t.store;
  std::string s;
  s += "pool:  " + Bytes(p.frames * pool_->page_size()) + " in " + Num(p.frames) + " frames of " +
       Bytes(pool_->page_size()) + ", policy " + pool_->policy_name() + ", " +
       Num(p.used_frames) + " used, " + Num(p.dirty_pages) + " dirty\n";
  s += "       hits " + Num(p.hits) + ", misses " + Num(p.misses) + ", hit ratio " +
       Ratio(p.HitRatio()) + ", evictions " + Num(p.evictions) + "\n";
  s += "       pages read " + Num(p.reads) + " (" + Bytes(p.bytes_read) + "), written " +
       Num(p.writes) + " (" + Bytes(p.bytes_written) + ")\n";
  s += "io:    backend " + io_->Name() + ", reads " + Num(io.reads) + ", writes " +
       Num(io.writes) + ", syncs " + Num(io.syncs) + ", submits " + Num(io.submits) +
       ", fixed-buffer ops " + Num(io.fixed_ops) + "\n";
  s += "       read " + Bytes(io.bytes_read) + ", written " + Bytes(io.bytes_written) + "\n";
  s += "log:   segment " + Num(t.log_segment) + ", records " + Num(t.log_records) +
       " since checkpoint, syncs " + Num(t.log_syncs) + ", group commits " +
       Num(t.log_group_commits) + ", written " + Bytes(t.log_bytes_written) + "\n";
  s += "file:  " + Bytes(st.slots * pool_->page_size()) + ", " + Bytes(DiskBytes()) +
       " on disk (" + Num(st.slots) + " slots, " +
       Num(st.free_slots) + " free), " + Num(st.live_pages) + " live pages, checkpoints " +
       Num(checkpoints_.load()) + " (the last wrote " + Num(checkpoint_pages_.load()) +
       " pages; the page cleaner wrote " + Num(cleaner_pages_.load()) + " ahead of them)\n";
  s += "pack:  idle compactor " +
       (options_.read_only || options_.idle_compact_ms == 0
            ? std::string("off")
            : "after " + Num(options_.idle_compact_ms) + " ms without writes, below " +
                  Ratio(options_.idle_compact_fill) + " leaf fill") +
       "; fill sampled " + Num(sparse_checks_.load()) + " times" +
       (sparse_checks_.load() > 0
            ? " (last " + Ratio(static_cast<double>(last_sampled_fill_permille_.load()) / 1000) +
                  ")"
            : std::string()) +
       ", compactions " + Num(sparse_compacts_.load()) + ", stopped by writes " +
       Num(idle_stops_.load()) + ", deferred (sparse, too few writes since the last) " +
       Num(sparse_deferred_.load()) + "\n";
  const VersionStore::Stats vs = versions_->stats();
  s += "snap:  " + Num(vs.snapshots) + " open (iterators included)" +
       (vs.snapshots > 0 ? ", oldest " + Num(vs.oldest_age_ms) + " ms" : std::string()) +
       ", old versions held " + Bytes(vs.retained_bytes) + " in " + Num(vs.retained_versions) +
       ", expired " + Num(vs.expired) + "\n";
  const DeleteBuffer::Stats ds = deletes_->stats();
  s += "dels:  " + Num(ds.entries) + " buffered (" + Num(ds.unapplied) + " not yet in the tree), " +
       Bytes(ds.bytes) + " of " + Bytes(ds.max_bytes) + "; since open buffered " +
       Num(ds.buffered) + ", applied " + Num(ds.applied) + "\n";
  const RowCache::Stats rs = rows_->stats();
  const CacheSplit sp = split_snapshot();
  if (sp.on) {
    s += "split: adaptive; row cache " + Bytes(sp.rows) + ", pool " + Bytes(sp.budget - sp.rows) +
         " of " + Bytes(sp.budget) + " (" + (rows_on_.load(std::memory_order_relaxed)
                                                 ? "on: the pool evicts"
                                                 : "off: the pool does not evict") +
         "); moves to the row cache " + Num(sp.moves_to_rows) + ", to the pool " +
         Num(sp.moves_to_pool) + "\n";
  }
  if (rs.capacity > 0) {
    const uint64_t lookups = rs.hits + rs.misses;
    const std::string ratio =
        Ratio(lookups == 0 ? 0.0 : static_cast<double>(rs.hits) / static_cast<double>(lookups));
    s += "rows:  " + Num(rs.entries) + " pairs, " + Bytes(rs.bytes) + " of " +
         Bytes(rs.capacity) + "; hits " + Num(rs.hits) + ", misses " + Num(rs.misses) +
         ", hit ratio " + ratio + ", fills " + Num(rs.fills) + " (" + Num(rs.refused) +
         " refused: a write intervened), evictions " + Num(rs.evictions) + "\n";
  } else if (!sp.on) {
    s += "rows:  off (row_cache_bytes 0)\n";
  }
  s += ErrorStateLine();
  const std::string notices = Notices();
  if (!notices.empty()) s += "notes: " + notices;
  return s;
}

}  // namespace ringdb
