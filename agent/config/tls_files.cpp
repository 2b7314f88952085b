#include "agent/config/tls_files.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "agent/config/secret_file.hpp"

namespace galeratop {
namespace {

/// A PEM file is a few kilobytes; a chain of several certificates stays far below this.
constexpr std::size_t max_pem_size = 1024 * 1024;

/// OpenSSL's reason for the last failure, without its queue of earlier ones.
std::string openssl_reason(const std::error_code& ec) {
  ::ERR_clear_error();
  return ec.message();
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_context(const tls_files& files, std::string_view key_prefix,
                                                        std::string& error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ::SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Compression leaks secrets (CRIME); renegotiation only opens a door for a denial of service.
  ::SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (::SSL_CTX_get_security_level(native) < 2) ::SSL_CTX_set_security_level(native, 2);
  // An encrypted key would make OpenSSL prompt on the terminal; a daemon answers "no passphrase".
  ctx->set_password_callback([](std::size_t, asio::ssl::context::password_purpose) { return std::string(); });

  std::string why;
  const auto cert = read_small_file(files.cert, false, max_pem_size, why);
  if (!cert) {
    error = fmt::format("{}_cert {}: {}", key_prefix, files.cert, why);
    return nullptr;
  }
  std::error_code ec;
  ctx->use_certificate_chain(asio::buffer(*cert), ec);
  if (ec) {
    error = fmt::format("{}_cert {}: not a PEM certificate: {}", key_prefix, files.cert, openssl_reason(ec));
    return nullptr;
  }
  const auto key = read_small_file(files.key, true, max_pem_size, why);
  if (!key) {
    error = fmt::format("{}_key {}: {}", key_prefix, files.key, why);
    return nullptr;
  }
  ctx->use_private_key(asio::buffer(*key), asio::ssl::context::pem, ec);
  // OpenSSL compares the key with the certificate as it takes it.
  const bool mismatch = ec && ec.category() == asio::error::get_ssl_category() &&
                        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) {
    error = fmt::format("{}_key {}: not an unencrypted PEM private key: {}", key_prefix, files.key,
                        openssl_reason(ec));
    return nullptr;
  }
  if (mismatch || ::SSL_CTX_check_private_key(native) != 1) {
    ::ERR_clear_error();
    error = fmt::format("{}_key {}: does not match the certificate in {}", key_prefix, files.key, files.cert);
    return nullptr;
  }
  return ctx;
}

}  // namespace galeratop
