#include <iostream>
#include <ringdb/db.h>

int main() {
  ringdb::Options options;                      // create_if_missing = true
  options.buffer_pool_bytes = 64 << 20;         // the whole cache budget
  std::unique_ptr<ringdb::DB> db;
  ringdb::Status s = ringdb::DB::Open(options, "/tmp/hello.ringdb", &db);
  if (!s.ok()) { std::cerr << s.ToString() << "\n"; return 1; }
  ringdb::WriteOptions durable;
  durable.sync = true;                          // fdatasync'd before returning
  s = db->Put(durable, "greeting", "hello, world");
  std::string value;
  if (s.ok()) s = db->Get(ringdb::ReadOptions(), "greeting", &value);
  std::cout << (s.ok() ? value : s.ToString()) << "\n";
  return db->Close().ok() && s.ok() ? 0 : 1;
}
