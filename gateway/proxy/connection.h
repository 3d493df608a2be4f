// One client connection: reads requests (keep-alive, pipelined, one at a time),
// routes them, answers direct responses, and proxies the rest to a pool
// endpoint, streaming bodies both ways.
#pragma once

#include <boost/asio.hpp>
#include <string>

namespace rampart::gateway::core {
class Worker;
}

namespace rampart::gateway::proxy {

boost::asio::awaitable<void> serveClient(core::Worker& worker, boost::asio::ip::tcp::socket socket,
                                         std::string listener);

}  // namespace rampart::gateway::proxy
