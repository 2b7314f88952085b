#include "agent/control/tls_failure.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace galeratop {

tls_failure classify_tls_failure(int reason, long verify_result, bool peer_closed) {
  switch (verify_result) {
    case X509_V_OK:
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return tls_failure::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return tls_failure::not_yet_valid;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return tls_failure::wrong_host;
    default:
      return tls_failure::untrusted;
  }
  switch (reason) {
    // What OpenSSL reports when the first bytes are not a TLS record: an HTTP or JSON line, or
    // a record header whose version or length makes no sense.
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_RECORD_LENGTH_MISMATCH:
      return tls_failure::not_tls;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return tls_failure::untrusted;
    default:
      break;
  }
  return peer_closed ? tls_failure::closed : tls_failure::other;
}

std::string tls_failure_message(std::string_view target, tls_failure kind, std::string_view detail,
                                bool ca_file_given) {
  switch (kind) {
    case tls_failure::not_tls:
      return fmt::format("{}: the agent does not speak TLS (plain control endpoint? galeratop --plain talks to one, "
                         "the token then crosses in clear)", target);
    case tls_failure::untrusted:
      return fmt::format("{}: certificate verify failed: {} ({})", target, detail,
                         ca_file_given ? "is --ca-file the CA that signed the agent's certificate?"
                                       : "the system's CAs do not trust it: give --ca-file with the CA that signed "
                                         "the agent's certificate");
    case tls_failure::expired:
      return fmt::format("{}: certificate verify failed: {} (renew the agent's agent.control_tls_cert)", target,
                         detail);
    case tls_failure::not_yet_valid:
      return fmt::format("{}: certificate verify failed: {} (is a clock wrong?)", target, detail);
    case tls_failure::wrong_host:
      return fmt::format("{}: certificate verify failed: {} (the agent's certificate does not name the host or "
                         "address given to --control)", target, detail);
    case tls_failure::closed:
      return fmt::format("{}: the agent closed the connection during the TLS handshake ({}): does it speak TLS? "
                         "(plain control endpoint? galeratop --plain talks to one, the token then crosses in clear)",
                         target, detail);
    case tls_failure::other:
      break;
  }
  return fmt::format("{}: TLS handshake failed: {}", target, detail);
}

}  // namespace galeratop
