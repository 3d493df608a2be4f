// The admin listener's pages: /metrics (Prometheus text), /healthz, /ready,
// /upstreams, /config. Served on the main thread's io_context, away from the
// workers; reads the workers' counters without locks.
#pragma once

#include <boost/asio.hpp>

namespace rampart::gateway::core {
class Server;
}

namespace rampart::gateway::admin {

boost::asio::awaitable<void> serveAdmin(core::Server& server, boost::asio::ip::tcp::acceptor& acceptor);

}  // namespace rampart::gateway::admin
