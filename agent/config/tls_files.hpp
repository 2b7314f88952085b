#pragma once

#include <asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace galeratop {

/// A TLS server's certificate and key files, as the configuration names them.
struct tls_files {
  std::string cert;  ///< PEM: the certificate, then any intermediates
  std::string key;   ///< PEM: its private key, unencrypted; other users must not be able to read it
};

/// A server context for TLS 1.2 and later (no compression, OpenSSL's ciphers at security level 2 or
/// more) holding the files' certificate and key, read now; nullptr with `error` when a file is
/// unreadable, is not PEM, the key is readable by other users or does not match the certificate.
/// `key_prefix` names the keys in the error: "agent.control_tls" gives agent.control_tls_cert and _key.
std::shared_ptr<asio::ssl::context> make_server_context(const tls_files& files, std::string_view key_prefix,
                                                        std::string& error);

}  // namespace galeratop
