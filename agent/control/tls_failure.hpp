#pragma once

#include <string>
#include <string_view>

namespace galeratop {

/// What a failed TLS handshake of the control endpoint means, in the terms an operator acts on.
enum class tls_failure {
  not_tls,        ///< the peer sent something that is not TLS: a plain-text client or agent
  untrusted,      ///< the certificate chain does not lead to a trusted CA
  expired,        ///< the certificate (or one in its chain) has expired
  not_yet_valid,  ///< the certificate is not valid yet (or a clock is wrong)
  wrong_host,     ///< the certificate does not name the host or address connected to
  closed,         ///< the peer closed the connection during the handshake
  other,          ///< anything else; OpenSSL's own words say what
};

/// Classifies a failed handshake from OpenSSL's reason code (ERR_GET_REASON of the error, 0 when the
/// peer just closed) and the peer certificate's verification result (X509_V_OK = 0 when not checked).
tls_failure classify_tls_failure(int reason, long verify_result, bool peer_closed);

/// galeratop's message for a failed handshake with `target` (HOST:PORT): `detail` is OpenSSL's text
/// (the verification error, else the handshake error); the hint says what to check, e.g. "TARGET:
/// certificate verify failed: unable to get local issuer certificate (is --ca-file the CA that signed
/// the agent's certificate?)".
std::string tls_failure_message(std::string_view target, tls_failure kind, std::string_view detail,
                                bool ca_file_given);

}  // namespace galeratop
