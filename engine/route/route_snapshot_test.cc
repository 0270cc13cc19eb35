#include "engine/route/route_snapshot.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ferry::route {
namespace {

// Returns a table with routes d0.example .. d<count-1>.example.
std::shared_ptr<const RouteTable> TableWithRoutes(int count) {
  std::vector<Route> routes;
  for (int i = 0; i < count; ++i) {
    Route route;
    route.domain = absl::StrCat("d", i, ".example");
    route.next_hops.push_back(NextHop{.host = "127.0.0.1", .port = 2526});
    routes.push_back(std::move(route));
  }
  absl::StatusOr<std::shared_ptr<const RouteTable>> table =
      RouteTable::Build(std::move(routes));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : RouteTable::Empty();
}

TEST(RouteSnapshot, StartsEmpty) {
  RouteSnapshot snapshot;
  std::shared_ptr<const RouteTable> table = snapshot.Load();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->size(), 0u);
  RouteSnapshot::Reader reader(&snapshot);
  ASSERT_NE(reader.Load(), nullptr);
  EXPECT_EQ(reader.Load()->size(), 0u);
}

TEST(RouteSnapshot, LoadReturnsPublishedTable) {
  RouteSnapshot snapshot;
  std::shared_ptr<const RouteTable> published = TableWithRoutes(2);
  snapshot.Publish(published);
  EXPECT_EQ(snapshot.Load(), published);
}

TEST(RouteSnapshot, ReaderSeesLaterPublish) {
  RouteSnapshot snapshot(TableWithRoutes(1));
  RouteSnapshot::Reader reader(&snapshot);
  EXPECT_EQ(reader.Load()->size(), 1u);
  std::shared_ptr<const RouteTable> published = TableWithRoutes(3);
  snapshot.Publish(published);
  EXPECT_EQ(reader.Load(), published);
}

TEST(RouteSnapshot, ReaderReusesCachedTable) {
  RouteSnapshot snapshot(TableWithRoutes(1));
  RouteSnapshot::Reader reader(&snapshot);
  const std::shared_ptr<const RouteTable>* first = &reader.Load();
  const RouteTable* table = first->get();
  EXPECT_EQ(&reader.Load(), first);
  EXPECT_EQ(reader.Load().get(), table);
}

TEST(RouteSnapshot, OldTableOutlivesPublish) {
  RouteSnapshot snapshot(TableWithRoutes(1));
  std::shared_ptr<const RouteTable> old_table = snapshot.Load();
  snapshot.Publish(TableWithRoutes(3));
  EXPECT_EQ(old_table->size(), 1u);
  EXPECT_NE(old_table->Find("d0.example"), nullptr);
  EXPECT_EQ(snapshot.Load()->size(), 3u);
}

TEST(RouteSnapshot, OldTableFreedWhenReaderMovesOn) {
  RouteSnapshot snapshot(TableWithRoutes(1));
  RouteSnapshot::Reader reader(&snapshot);
  std::weak_ptr<const RouteTable> old_table = reader.Load();
  snapshot.Publish(TableWithRoutes(2));
  EXPECT_FALSE(old_table.expired());
  EXPECT_EQ(reader.Load()->size(), 2u);
  EXPECT_TRUE(old_table.expired());
}

// Readers must always see a whole table: one with N routes contains
// d0..d<N-1>, and N never goes down because the writer only grows it.
TEST(RouteSnapshot, ReadersSeeWholeTables) {
  constexpr int kTables = 200;
  constexpr int kReaders = 4;
  constexpr int kLoadsPerReader = 20000;
  RouteSnapshot snapshot(TableWithRoutes(1));
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      RouteSnapshot::Reader reader(&snapshot);
      size_t last_size = 0;
      for (int i = 0; i < kLoadsPerReader; ++i) {
        const RouteTable& table = *reader.Load();
        const size_t size = table.size();
        const std::string last = absl::StrCat("d", size - 1, ".example");
        if (size < last_size || table.Find("d0.example") == nullptr ||
            table.Find(last) == nullptr) {
          failures.fetch_add(1);
        }
        last_size = size;
      }
    });
  }
  for (int n = 2; n <= kTables; ++n) snapshot.Publish(TableWithRoutes(n));
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(snapshot.Load()->size(), static_cast<size_t>(kTables));
}

}  // namespace
}  // namespace ferry::route
