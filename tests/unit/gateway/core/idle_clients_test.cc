// Worker::idle_clients: connections waiting for their next request, each
// entering and leaving by its own slot (what the drain cancels).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "gateway/core/worker.h"

namespace rampart::gateway::core {
namespace {

std::vector<tcp::socket*> listed(const IdleClients& idle) {
  std::vector<tcp::socket*> out;
  idle.forEach([&](tcp::socket* s) { out.push_back(s); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(IdleClients, EachLeavesByItsSlotWhateverTheOrder) {
  boost::asio::io_context io;
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 5; ++i) sockets.emplace_back(io);
  std::vector<IdleClients::Slot> slots(5);
  IdleClients idle;
  for (int i = 0; i < 5; ++i) idle.insert(&sockets[size_t(i)], slots[size_t(i)]);
  idle.insert(&sockets[2], slots[2]);  // in already: once
  EXPECT_EQ(idle.size(), 5u);
  // The first, one in the middle, then the last as it stands: each time the
  // others stay listed and find their slots.
  for (int gone : {0, 2, 4, 1, 3}) {
    idle.erase(slots[size_t(gone)]);
    idle.erase(slots[size_t(gone)]);  // out already: nothing
    EXPECT_EQ(slots[size_t(gone)].at, SIZE_MAX);
    std::vector<tcp::socket*> want;
    for (int i = 0; i < 5; ++i)
      if (slots[size_t(i)].at != SIZE_MAX) want.push_back(&sockets[size_t(i)]);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(listed(idle), want) << "after " << gone;
  }
  EXPECT_EQ(idle.size(), 0u);
  idle.insert(&sockets[3], slots[3]);  // back in after leaving
  EXPECT_EQ(listed(idle), std::vector<tcp::socket*>{&sockets[3]});
}

}  // namespace
}  // namespace rampart::gateway::core
