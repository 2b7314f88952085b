#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/core/galera_state.hpp"

namespace galeratop {

// When the sessions of a node are closed, and how (node_admin.hpp carries it out). Pure.

/// Why the sessions of a node a reload removed are closed, in the words of the client's error.
inline constexpr std::string_view removed_from_configuration = "removed from the configuration";

/// Whether a node's change of state closes its sessions at once ([balancer] close_on_failure):
/// it has just become down or non-Primary, where a session's next statement would fail or hang.
/// `before`: its state before the change; nullopt for a node just added.
bool closes_on_failure(bool close_on_failure, std::optional<galera_state> before, galera_state now);

/// What an operator's change of a node's admin state asks of its open sessions.
enum class admin_followup {
  keep,        ///< ready: the closes not carried out yet are taken back
  close_safe,  ///< drain: each closes at its next safe point
  close_safe_then_cut,  ///< maint: as drain, and what is left at the end of maint_grace is cut
};

/// What becoming `now` asks of a node's open sessions.
admin_followup after_admin_change(admin_state now);

/// Why a session the relay has just taken over must close at its first safe point: every session
/// is closing (`closing_all`, a stop), or its node was drained or put in maintenance while it
/// connected. nullopt: it stays.
std::optional<std::string> close_on_arrival(admin_state node_admin, const std::optional<std::string>& closing_all);

/// Whether a node out of rotation (drain, maint) has no session left: a drain's end, which the
/// agent tells its subscribers at once.
bool drained(admin_state admin, std::uint32_t connections);

}  // namespace galeratop
