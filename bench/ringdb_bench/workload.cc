// The db_bench-style workloads (fills, point reads, scans, deletes) and
// compact.
#include "workload.h"

#include <algorithm>
#include <memory>

namespace ringdb_bench {

uint64_t ThreadSeed(uint64_t seed, const std::string& workload, int tid) {
  uint64_t h = seed;
  for (char c : workload) h = Mix64(h ^ static_cast<uint8_t>(c));
  return Mix64(h + static_cast<uint64_t>(tid) * 0x9e3779b97f4a7c15ull);
}

void ThreadCtx::Record(const EngineStatus& s) {
  if (s.IsError()) {
    errors++;
    if (first_error.empty()) first_error = s.message();
  }
}

void ThreadCtx::Get(EngineRunState& st, uint64_t index, bool verify) {
  st.keys->Key(index, &key);
  EngineStatus s = st.engine->Get(key, &value);
  if (s.ok()) {
    found++;
    user_bytes_read += key.size() + value.size();
    if (verify && value != st.keys->Value(index)) {
      wrong_values++;
      if (first_error.empty()) first_error = "wrong value for key " + key;
    }
  } else if (s.IsNotFound()) {
    not_found++;
  } else {
    Record(s);
  }
}

void ThreadCtx::Put(EngineRunState& st, uint64_t index, bool sync) {
  st.keys->Key(index, &key);
  std::string_view v = st.keys->Value(index);
  Record(st.engine->Put(key, v, sync));
  user_bytes_written += key.size() + v.size();
}

void ThreadCtx::Delete(EngineRunState& st, uint64_t index, bool sync) {
  st.keys->Key(index, &key);
  EngineStatus s = st.engine->Delete(key, sync);
  if (!s.IsNotFound()) Record(s);
  user_bytes_written += key.size();
}

void ThreadCtx::Scan(EngineRunState& st, uint64_t start_index, size_t count) {
  st.keys->Key(start_index, &key);
  size_t visited = 0, bytes = 0;
  Record(st.engine->Scan(key, count, &visited, &bytes, nullptr));
  found += visited;
  user_bytes_read += bytes;
}

namespace {

uint64_t PerThread(uint64_t total, int threads) {
  return std::max<uint64_t>(1, (total + threads - 1) / threads);
}

// Writes keys order(i) for i in [0, n), split into contiguous slices per
// thread, batch_size keys per call.
void PlanFill(const BenchSettings& s, EngineRunState* st, WorkloadPlan* plan, uint64_t n,
              int threads, bool sync, std::function<uint64_t(uint64_t)> order) {
  const uint64_t batch = static_cast<uint64_t>(std::max(1, s.batch_size));
  const uint64_t slice = (n + threads - 1) / threads;
  plan->writes = true;
  plan->threads = threads;
  plan->calls_per_thread = (slice + batch - 1) / batch;
  plan->planned_ops = n;
  if (batch > 1) plan->unit = "batch of " + std::to_string(batch) + " writes";
  plan->op = [st, n, slice, batch, sync, order](ThreadCtx& t, uint64_t call) {
    const uint64_t begin = t.tid * slice + call * batch;
    const uint64_t end = std::min({begin + batch, (t.tid + 1) * slice, n});
    if (begin >= end) {
      t.ops_in_call = 0;
      return;
    }
    t.ops_in_call = end - begin;
    if (batch == 1) {
      t.Put(*st, order(begin), sync);
      return;
    }
    t.batch.ops.resize(end - begin);
    for (uint64_t i = begin; i < end; i++) {
      KvBatch::Op& op = t.batch.ops[i - begin];
      const uint64_t k = order(i);
      op.is_delete = false;
      st->keys->Key(k, &op.key);
      op.value.assign(st->keys->Value(k));
      t.user_bytes_written += op.key.size() + op.value.size();
    }
    t.Record(st->engine->Write(t.batch, sync));
  };
}

}  // namespace

bool MakePlan(const std::string& name, const BenchSettings& s, EngineRunState* st,
              WorkloadPlan* plan, std::string* error) {
  *plan = WorkloadPlan();
  plan->name = name;
  const int threads = std::max(1, s.threads);
  const uint64_t num = s.num;
  const bool verify = s.verify;

  if (name == "fillseq") {
    plan->fresh_db = true;
    PlanFill(s, st, plan, num, 1, s.sync, [](uint64_t i) { return i; });
    return true;
  }
  if (name == "fillrandom" || name == "fillsync") {
    const bool is_sync = name == "fillsync";
    plan->fresh_db = !is_sync;
    auto shuffle = std::make_shared<Shuffle>(num, ThreadSeed(s.seed, name, -1));
    const uint64_t n = is_sync ? std::max<uint64_t>(std::min<uint64_t>(num, 1000), num / 100) : num;
    PlanFill(s, st, plan, n, is_sync ? std::max(1, s.fillsync_threads) : threads,
             is_sync || s.sync, [shuffle](uint64_t i) { return shuffle->At(i); });
    return true;
  }
  if (name == "overwrite" || name == "deleterandom") {
    const bool del = name == "deleterandom";
    const uint64_t total = del ? s.deletes : num;
    plan->writes = true;
    plan->threads = threads;
    plan->calls_per_thread = PerThread(total, threads);
    plan->planned_ops = plan->calls_per_thread * threads;
    const bool sync = s.sync;
    plan->op = [st, num, del, sync](ThreadCtx& t, uint64_t) {
      const uint64_t k = t.rng.Uniform(num);
      if (del) {
        t.Delete(*st, k, sync);
      } else {
        t.Put(*st, k, sync);
      }
    };
    return true;
  }
  if (name == "readrandom" || name == "readwhilewriting") {
    plan->threads = threads;
    plan->calls_per_thread = PerThread(s.reads, threads);
    plan->planned_ops = plan->calls_per_thread * threads;
    plan->op = [st, num, verify](ThreadCtx& t, uint64_t) { t.Get(*st, t.rng.Uniform(num), verify); };
    if (name == "readwhilewriting") {
      const bool sync = s.sync;
      plan->background = [st, num, sync](ThreadCtx& t, const std::atomic<bool>& stop) {
        while (!stop.load(std::memory_order_relaxed)) {
          t.Put(*st, t.rng.Uniform(num), sync);
          t.ops++;
        }
      };
    }
    return true;
  }
  if (name == "multiget") {
    const size_t batch = static_cast<size_t>(std::max(1, s.multiget_batch));
    plan->threads = threads;
    plan->calls_per_thread = PerThread((s.reads + batch - 1) / batch, threads);
    plan->planned_ops = plan->calls_per_thread * threads * batch;
    plan->unit = "MultiGet of " + std::to_string(batch);
    plan->op = [st, num, batch, verify](ThreadCtx& t, uint64_t) {
      t.keys.resize(batch);
      std::vector<uint64_t> idx(batch);
      std::vector<std::string_view> views(batch);
      for (size_t i = 0; i < batch; i++) {
        idx[i] = t.rng.Uniform(num);
        st->keys->Key(idx[i], &t.keys[i]);
        views[i] = t.keys[i];
      }
      st->engine->MultiGet(views, &t.values, &t.statuses);
      t.ops_in_call = batch;
      for (size_t i = 0; i < batch; i++) {
        const EngineStatus& r = i < t.statuses.size() ? t.statuses[i] : EngineStatus::Error("short");
        if (r.ok()) {
          t.found++;
          t.user_bytes_read += t.keys[i].size() + t.values[i].size();
          if (verify && t.values[i] != st->keys->Value(idx[i])) {
            t.wrong_values++;
            if (t.first_error.empty()) t.first_error = "wrong value for key " + t.keys[i];
          }
        } else if (r.IsNotFound()) {
          t.not_found++;
        } else {
          t.Record(r);
        }
      }
    };
    return true;
  }
  if (name == "readseq") {
    // Each thread scans its slice of the key range in chunks: seek, then
    // steps, resuming after the last key of the previous chunk.
    const size_t chunk = static_cast<size_t>(std::max(1, s.readseq_chunk));
    const uint64_t slice = (num + threads - 1) / threads;
    plan->threads = threads;
    plan->calls_per_thread = (slice + chunk - 1) / chunk + 1;
    plan->planned_ops = num;
    plan->unit = "Scan of " + std::to_string(chunk);
    plan->op = [st, chunk, slice](ThreadCtx& t, uint64_t call) {
      if (call == 0) st->keys->Key(t.tid * slice, &t.value);  // t.value holds the resume key
      std::string limit;
      st->keys->Key((t.tid + 1) * slice, &limit);
      if (t.value.empty() || t.value >= limit) {
        t.ops_in_call = 0;
        return;
      }
      size_t visited = 0, bytes = 0;
      std::string last;
      t.Record(st->engine->Scan(t.value, chunk, &visited, &bytes, &last));
      t.found += visited;
      t.user_bytes_read += bytes;
      t.ops_in_call = visited;
      if (visited < chunk || last.empty()) {
        t.value.clear();  // end of the data
      } else {
        t.value = last;
        t.value.push_back('\0');  // the smallest key after `last`
      }
    };
    return true;
  }
  if (name == "seekrandom") {
    const size_t count = static_cast<size_t>(s.seek_nexts) + 1;
    plan->threads = threads;
    plan->calls_per_thread = PerThread(s.reads / 10 + 1, threads);
    plan->planned_ops = plan->calls_per_thread * threads;
    plan->unit = "Seek + " + std::to_string(s.seek_nexts) + " Next";
    plan->op = [st, num, count](ThreadCtx& t, uint64_t) { t.Scan(*st, t.rng.Uniform(num), count); };
    return true;
  }
  if (name == "compact") {
    // One call on one thread: the whole compaction is the latency sample.
    plan->maintenance = true;
    plan->threads = 1;
    plan->calls_per_thread = 1;
    plan->planned_ops = 1;
    plan->unit = "compaction of the whole database";
    plan->op = [st](ThreadCtx& t, uint64_t) { t.Record(st->engine->Compact()); };
    return true;
  }
  if (name.rfind("ycsb", 0) == 0 && MakeYcsbPlan(name, s, st, plan)) return true;
  *error = "unknown benchmark '" + name + "' (see --help for the list)";
  return false;
}

std::vector<std::pair<std::string, std::string>> WorkloadNames() {
  return {
      {"fillseq", "write --num keys in order into a new database (1 thread)"},
      {"fillrandom", "write --num keys in a random order into a new database"},
      {"overwrite", "write --num random existing keys"},
      {"fillsync", "--num/100 random writes with sync=true from --fillsync_threads threads (group commit)"},
      {"readrandom", "--reads point reads of random keys"},
      {"multiget", "--reads point reads in MultiGet batches of --multiget_batch"},
      {"readseq", "scan all keys in order (Scan calls of 1000 entries)"},
      {"seekrandom", "--reads/10 seeks to a random key, then --seek_nexts nexts"},
      {"readwhilewriting", "readrandom on --threads threads plus one writer thread"},
      {"deleterandom", "--deletes deletes of random keys"},
      {"ycsba", "YCSB A: 50% read, 50% update, Zipfian"},
      {"ycsbb", "YCSB B: 95% read, 5% update, Zipfian"},
      {"ycsbc", "YCSB C: 100% read, Zipfian"},
      {"ycsbd", "YCSB D: 95% read latest, 5% insert"},
      {"ycsbe", "YCSB E: 95% scans of 1-100 entries, 5% insert, Zipfian"},
      {"ycsbf", "YCSB F: 50% read, 50% read-modify-write, Zipfian"},
      {"compact", "compact the whole database once and wait until it is done (1 op: its time "
                  "and the disk usage after it; LMDB: skipped)"},
  };
}

}  // namespace ringdb_bench
