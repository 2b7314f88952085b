#include "balancer/session_io.hpp"

namespace galeratop {

void session_io::close(session_id id, std::string_view why) {
  if (!closed) closed = std::string(why);
  if (dialing_at) dialing_at->abort_dial(id);  // the outcome says client_gone, or a failure already on its way
  std::error_code ignored;
  client.close(ignored);
  server.close(ignored);
  if (wake) wake->cancel();
}

}  // namespace galeratop
