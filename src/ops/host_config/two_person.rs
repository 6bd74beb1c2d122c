//! `host-config --two-person CUSTODIAN_CA.pub…`: a dedicated account that opens only to two
//! certificates signed by two *different* custodians' CAs (issue 16).
//!
//! sshd has the parts but not the rule. `AuthenticationMethods publickey,publickey` makes it
//! require two public-key authentications with two different keys (`auth2-pubkey.c` refuses a
//! key it already accepted), yet it does not care which CA signed them. `ExposeAuthInfo yes` hands
//! the session `$SSH_USER_AUTH`, one line per method used (`publickey TYPE-cert-v01@openssh.com
//! BASE64`, `auth.c: auth_log_authinfo` / `session.c: prepare_auth_info_file`), and `ForceCommand`
//! runs the gate before anything else; the gate adds the one check sshd lacks.
//!
//! `Match User` selects by account, never by certificate, so the rule lives on a dedicated
//! account (default [`DEFAULT_USER`]) and root's normal logins are untouched. Inside that block
//! the custodian CAs are the *only* trusted CAs (their own file, [`CUSTODIAN_CA_FILE`]): were
//! they merged into the host-wide CA file, one custodian could mint a certificate naming `root`
//! and log in alone.

use std::path::Path;

/// The gate's name in `--out` (installed as `ETC/breakglass_two_person_gate.sh`, 0755).
pub const GATE_NAME: &str = "breakglass_two_person_gate.sh";
/// The custodian CAs' file in `--out` and under `--etc`.
pub const CUSTODIAN_CA_FILE: &str = "breakglass_custodian_ca.pub";
/// The default two-person account.
pub const DEFAULT_USER: &str = "breakglass";
/// The syslog tag of the gate's lines.
pub const LOG_TAG: &str = "breakglass-gate";
/// Where sftp-server lives on common systems; the gate uses the first that exists.
const SFTP_SERVERS: &[&str] = &[
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/libexec/sftp-server",
    "/usr/lib/ssh/sftp-server",
];

/// Checks `--two-person-user`: a plain login name (it goes into a `Match User` line).
pub fn check_user(user: &str) -> Result<(), String> {
    let ok = !user.is_empty()
        && user.len() <= 32
        && !user.starts_with('-')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--two-person-user '{user}' is not a login name (letters, digits, '_', '-', '.')"
        ))
    }
}

/// The drop-in's `Match User` block for the two-person account. Values in a `Match` block
/// replace the global ones for the connections it matches, so for this account only the
/// custodian CAs are trusted, no authorized_keys file counts, the principals file is the
/// account's own (`principals`, listing just the account name: sshd reads `none` here as a file
/// name, so the host's global setting cannot be switched off any other way), and the gate
/// always runs. `DisableForwarding` because
/// `ForceCommand` does not cover forwarding; `PermitTunnel no` and `PermitUserRC no` because
/// `DisableForwarding` covers neither.
pub fn match_block(user: &str, custodian_ca: &str, principals: &str, gate: &str) -> String {
    format!(
        "# Two-person break-glass: {user} opens only to two certificates from two different\n\
         # custodian CAs; the gate checks that and logs both (host-config --two-person).\n\
         Match User {user}\n\
         \x20   TrustedUserCAKeys {custodian_ca}\n\
         \x20   AuthorizedKeysFile none\n\
         \x20   AuthorizedPrincipalsFile {principals}\n\
         \x20   PubkeyAuthentication yes\n\
         \x20   AuthenticationMethods publickey,publickey\n\
         \x20   ExposeAuthInfo yes\n\
         \x20   ForceCommand {gate}\n\
         \x20   DisableForwarding yes\n\
         \x20   PermitTunnel no\n\
         \x20   PermitUserRC no\n"
    )
}

/// Single-quotes `s` for sh (`'` becomes `'\''`).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The gate: sshd's `ForceCommand` for the two-person account.
///
/// A POSIX sh script, not a binary of ours: host-config's output is plain files and nothing of
/// breakglass is installed on a host, while `sh`, `awk`, `logger` and `ssh-keygen` are on every
/// host that runs sshd. `custodian_fps` are the custodian CAs' `SHA256:` fingerprints;
/// `log_socket` (tests only) sends the log lines to that socket instead of `/dev/log`.
pub fn gate_script(custodian_fps: &[String], log_socket: Option<&Path>) -> String {
    let sftp = SFTP_SERVERS.join(" ");
    format!(
        r#"#!/bin/sh
# Written by breakglass host-config --two-person: sshd runs this as the ForceCommand of the
# two-person break-glass account. Why a shell script: nothing of breakglass is installed on the
# host; the host's own ssh-keygen reads the certificates.
#
# sshd has already verified both certificates (signature by a custodian CA, validity, principals,
# the KRL) and that they are two different keys (AuthenticationMethods publickey,publickey). What
# sshd cannot check is who signed them: this gate accepts only two certificates from two
# DIFFERENT custodian CAs for two DIFFERENT public keys (checked here too, not left to sshd),
# logs both key ids and serials to syslog (tag breakglass-gate), then runs the login shell or the
# command as sshd would. Anything else is refused with one line on stderr and a log line saying
# why.
#
# Nothing from a certificate or the command line is evaluated. ssh-keygen -L prints a key id
# as it is, line breaks included, so a certificate's listing is accepted only in its exact form
# (lines 2 to 8 Type, Public key, Signing CA, Key ID on one line without control characters,
# Serial, Valid, Principals, and exactly one Serial line): the public key and CA fingerprints,
# serial and key id read from it are the certificate's own. A key id is logged with anything but
# printable ASCII (and ") replaced by '?', cut at 200 characters. The only command run is
# "$SHELL" -c "$SSH_ORIGINAL_COMMAND", exactly what sshd runs without a ForceCommand.
CUSTODIANS={fps}
LOG_SOCKET={socket}
SFTP_SERVERS={sftp}
LC_ALL=C
export LC_ALL

addr=${{SSH_CONNECTION%% *}}
rest=${{SSH_CONNECTION#* }}
port=${{rest%% *}}
who=${{USER:-$(id -un)}}

log() {{
  if [ -n "$LOG_SOCKET" ]; then
    logger -u "$LOG_SOCKET" -t {tag} -p authpriv.notice -- "$1"
  else
    logger -t {tag} -p authpriv.notice -- "$1"
  fi || printf 'breakglass-gate: warning: could not write to syslog.\n' >&2
}}

tmp=''
refuse() {{
  [ -z "$tmp" ] || rm -f "$tmp"
  log "REFUSED two-person login for $who from $addr port $port: $1"
  printf 'breakglass-gate: refused: %s.\n' "$1" >&2
  exit 1
}}

if [ -z "${{SSH_USER_AUTH:-}}" ] || [ ! -r "$SSH_USER_AUTH" ]; then
  refuse "sshd did not expose the authentication methods (ExposeAuthInfo yes is missing)"
fi
tmp=$(mktemp) || refuse "cannot create a temporary file"

certs=0
fp1=''; fp2=''
while IFS=' ' read -r method type blob extra; do
  [ "$method" = publickey ] || continue
  case $type in
    *-cert-v01@openssh.com) ;;
    *) continue ;;
  esac
  certs=$((certs + 1))
  printf '%s %s\n' "$type" "$blob" > "$tmp"
  # ssh-keygen -L prints the key id as it is, line breaks included, so a key id can write what
  # look like the lines after it. Only the exact listing of one certificate is accepted: lines
  # 2 to 8 Type, Public key, Signing CA, Key ID (one line, no control character), Serial, Valid,
  # Principals, and exactly one Serial line in all (the real one always follows the key id).
  listing=$(ssh-keygen -L -f "$tmp" 2>/dev/null) || refuse "certificate $certs cannot be read by ssh-keygen -L"
  fields=$(printf '%s\n' "$listing" | awk '
    function want(n, re, what) {{ if (NR == n && $0 !~ re && !bad) bad = "line " n " is not " what }}
    /^        Serial: / {{ serials++ }}
    {{ want(2, "^        Type: [^ ]+-cert-v01@openssh.com user certificate$", "Type: ... user certificate") }}
    {{ want(3, "^        Public key: [^ ]+ SHA256:[^ ]+$", "Public key:") }}
    {{ want(4, "^        Signing CA: [^ ]+ SHA256:[^ ]+ [(]using [^ ]+[)]$", "Signing CA:") }}
    {{ want(5, "^        Key ID: \".*\"$", "Key ID: \"...\"") }}
    {{ want(6, "^        Serial: [0-9]+$", "Serial:") }}
    {{ want(7, "^        Valid: ", "Valid:") }}
    {{ want(8, "^        Principals: ", "Principals:") }}
    NR == 3 {{ key = $4 }}
    NR == 4 {{ ca = $4 }}
    NR == 5 {{ id = $0; sub(/^        Key ID: "/, "", id); sub(/"$/, "", id) }}
    NR == 6 {{ serial = $2 }}
    END {{
      if (serials != 1) {{ print "ssh-keygen -L lists " serials + 0 " Serial: lines, not one (a key id or principal with a line break)"; exit 1 }}
      if (NR < 8 && !bad) bad = "its ssh-keygen -L listing ends at line " NR
      if (bad) {{ print "ssh-keygen -L does not list it as one certificate: " bad; exit 1 }}
      if (id ~ /[\001-\037\177]/) {{ print "its key id holds a control character"; exit 1 }}
      # Logged and paged: printable ASCII without the quote, at most 200 characters.
      gsub(/[^ -~]|"/, "?", id)
      if (length(id) > 200) id = substr(id, 1, 200) "..."
      print key; print ca; print serial; print id
    }}') || refuse "certificate $certs: $fields"
  {{
    IFS= read -r key
    IFS= read -r ca
    IFS= read -r serial
    IFS= read -r id
  }} <<EOF
$fields
EOF
  case " $CUSTODIANS " in
    *" $ca "*) ;;
    *) continue ;;
  esac
  if [ -z "$fp1" ]; then
    fp1=$ca; serial1=$serial; id1=$id; key1=$key
  elif [ -z "$fp2" ] && [ "$ca" != "$fp1" ] && [ "$key" != "$key1" ]; then
    fp2=$ca; serial2=$serial; id2=$id
  elif [ -z "$fp2" ] && [ "$ca" != "$fp1" ]; then
    samekey="CA $fp1 ID \"$id1\" serial $serial1 and CA $ca ID \"$id\" serial $serial"
  elif [ -z "$fp2" ]; then
    same="ID \"$id1\" serial $serial1 and ID \"$id\" serial $serial"
  fi
done < "$SSH_USER_AUTH"
rm -f "$tmp"
tmp=''

if [ -z "$fp1" ]; then
  refuse "no certificate from a custodian CA was used ($certs certificate(s))"
fi
if [ -z "$fp2" ]; then
  if [ -n "${{samekey:-}}" ]; then
    refuse "both certificates are for the same public key $key1 ($samekey); two custodians must each certify a different key"
  fi
  if [ -n "${{same:-}}" ]; then
    refuse "both certificates are from the same custodian CA $fp1 ($same); two different custodians must each certify a key"
  fi
  refuse "only one custodian's certificate was used (CA $fp1 ID \"$id1\" serial $serial1); a second custodian must certify another key"
fi

log "ACCEPTED two-person login for $who from $addr port $port: serial $serial1 CA $fp1 ID \"$id1\", serial $serial2 CA $fp2 ID \"$id2\""

# As sshd would: no command means the login shell (sshd starts "$SHELL" as a login shell by
# naming it -sh; "$SHELL" -l is the same for bash, dash, zsh and ksh), a command runs through
# "$SHELL" -c. For a subsystem sshd puts the Subsystem line's command in SSH_ORIGINAL_COMMAND
# (session.c: session_subsystem_req); internal-sftp lives inside sshd and cannot run under a
# ForceCommand, so it becomes the sftp-server binary with the same arguments.
if [ -z "${{SSH_ORIGINAL_COMMAND+set}}" ]; then
  exec "$SHELL" -l
fi
case $SSH_ORIGINAL_COMMAND in
  internal-sftp | "internal-sftp "*)
    for server in $SFTP_SERVERS; do
      if [ -x "$server" ]; then
        set -f
        # shellcheck disable=SC2086 # split into sftp-server's arguments, no globbing
        set -- $SSH_ORIGINAL_COMMAND
        shift
        exec "$server" "$@"
      fi
    done
    printf 'breakglass-gate: sftp is not available: no sftp-server binary on this host.\n' >&2
    exit 1
    ;;
esac
exec "$SHELL" -c "$SSH_ORIGINAL_COMMAND"
"#,
        fps = sh_quote(&custodian_fps.join(" ")),
        socket = sh_quote(
            &log_socket
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
        sftp = sh_quote(&sftp),
        tag = LOG_TAG,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_plain() {
        assert!(check_user("breakglass").is_ok());
        assert!(check_user("bg-2.x_y").is_ok());
        assert!(check_user("").is_err());
        assert!(check_user("-x").is_err());
        assert!(check_user("a,b").is_err());
        assert!(check_user("a b").is_err());
        assert!(check_user("*").is_err());
    }

    #[test]
    fn the_gate_bakes_in_the_custodians_quoted() {
        let s = gate_script(&["SHA256:a".into(), "SHA256:b'c".into()], None);
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("CUSTODIANS='SHA256:a SHA256:b'\\''c'\n"));
        assert!(s.contains("LOG_SOCKET=''\n"));
        assert!(!s.lines().any(|l| l.split_whitespace().any(|w| w == "eval")));
    }
}
