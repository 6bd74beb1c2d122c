//! `host-config --alert PROGRAM`: an rsyslog rule and a small POSIX sh/awk script that run
//! PROGRAM for every sshd login by a certificate from a break-glass CA, and for every
//! certificate login the script cannot attribute with certainty.
//!
//! sshd 9.2 logs each accepted certificate login at INFO (`auth2.c: auth_log`, REFERENCE.md §10):
//! `Accepted publickey for USER from ADDR port N ssh2: TYPE-CERT SHA256:FP ID KEYID (serial N)
//! CA CATYPE SHA256:CAFP`. `log.c` escapes the message (`\n`, `\ooo` for bytes ≥ 0x80, `\\`)
//! and hands syslog at most **500 characters**: a key id of a few hundred characters pushes
//! `(serial N) CA …` off the end, and the key id itself may hold spaces, quotes, `$(…)` or a
//! fake "(serial 1) CA … SHA256:…" of its own, even one placed exactly where the cut falls.
//!
//! So the rule fails closed: rsyslog hands the script every sshd `Accepted publickey` line of a
//! certificate, whatever CA it names, and the script decides. A line of 500 or more characters
//! (cut, or indistinguishable from cut) or one not in sshd's format pages, marked
//! `unverified: …`; a complete line is read from its END (CA fingerprint, serial, key id), the
//! fingerprint checked against the list the script was written with; another CA's complete line
//! stays silent. No log text is ever evaluated by a shell: PROGRAM gets the fields as separate
//! arguments.
//!
//! A drill login (`fleet-drill`'s key id starts with `drill `) pages like any other, with
//! `BREAKGLASS_ALERT=DRILL` in PROGRAM's environment (else `LOGIN`): a key id never suppresses a
//! page, it only labels it.
//!
//! Any local user can write a syslog line with any tag (`logger -t sshd …`), so a page can be
//! faked; what the rule guarantees is the other direction: a real certificate login through sshd
//! cannot be hidden from it.

use std::path::Path;

/// Name of the script in `--out` (installed as `ETC/breakglass_alert.sh`).
pub const SCRIPT_NAME: &str = "breakglass_alert.sh";
/// The rsyslog rule's path in `--out`.
pub const RULE_NAME: &str = "rsyslog.d/30-breakglass-alert.conf";
/// Where the rsyslog rule goes on a host (Debian's rsyslog.conf includes /etc/rsyslog.d/*.conf).
pub const RULE_INSTALL_DIR: &str = "/etc/rsyslog.d";

/// Checks PROGRAM: an absolute path, printable, without quotes or backslashes (it is written
/// into an rsyslog-run script and shown in the plan).
pub fn check_program(program: &str) -> Result<(), String> {
    if !program.starts_with('/') {
        return Err(format!("{program:?} is not an absolute path to a program"));
    }
    if program
        .chars()
        .any(|c| crate::sanitize::is_dangerous(c) || matches!(c, '\'' | '"' | '\\'))
    {
        return Err(
            "the program path must not contain control characters, quotes or backslashes".into(),
        );
    }
    Ok(())
}

/// The rsyslog rule: every sshd `Accepted publickey` line of a certificate, and the two-person
/// gate's `ACCEPTED` lines, go to the script (omprog, message on stdin, in its own queue so a
/// slow pager never stalls the host's logging). The rule does not look at the CA: a cut line
/// has lost it, so the script decides. `startswith` (rsyslog may keep the space after the tag)
/// keeps out lines that merely quote the text, such as sshd's `Invalid user NAME` with a name a
/// network peer chose.
pub fn rsyslog_rule(script: &Path, ca_fingerprints: &[String]) -> String {
    format!(
        "# Written by breakglass host-config --alert. Every sshd certificate login goes to\n\
         # {script}, which pages for the break-glass CAs\n\
         # {fps}\n\
         # and for any line it cannot attribute with certainty (cut at 500 characters, or not in\n\
         # sshd's format), marked unverified.\n\
         module(load=\"omprog\")\n\
         template(name=\"breakglass_alert_line\" type=\"string\" string=\"%msg%\\n\")\n\
         if (($programname == \"sshd\" or $programname == \"sshd-session\") and ($msg startswith \"Accepted publickey for \" or $msg startswith \" Accepted publickey for \") and $msg contains \"-CERT SHA256:\") or ($programname == \"breakglass-gate\" and ($msg startswith \"ACCEPTED two-person login for \" or $msg startswith \" ACCEPTED two-person login for \")) then {{\n\
         \x20 action(type=\"omprog\" name=\"breakglass_alert\" binary=\"{script}\" template=\"breakglass_alert_line\" queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\")\n\
         }}\n",
        script = script.display(),
        fps = ca_fingerprints.join(" "),
    )
}

/// Single-quotes `s` for sh (`'` becomes `'\''`).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What an unverified page carries as SERIAL (its CA_FINGERPRINT is the reason).
pub const UNVERIFIED: &str = "unverified";
/// The reason of a page for a line of 500 or more characters.
pub const UNVERIFIED_CUT: &str = "unverified: the log line may be cut";
/// The reason of a page for a line the script cannot read.
pub const UNVERIFIED_FORMAT: &str = "unverified: the log line is not in the expected format";

/// The script omprog runs: reads sshd messages on stdin, one per line, and runs
/// `PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT` for each break-glass login, and
/// `PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT KEY_ID2 SERIAL2 CA_FINGERPRINT2` for
/// each two-person login the gate let in (`two_person.rs`; sshd logs the first of the two
/// certificates only as `Partial publickey`, so this is the line that names both custodians).
/// A certificate login it cannot attribute runs `PROGRAM USER ADDRESS PORT TEXT unverified
/// REASON`: TEXT is what the line holds from the key id on (the whole line if it does not
/// parse), REASON [`UNVERIFIED_CUT`] or [`UNVERIFIED_FORMAT`]; USER, ADDRESS and PORT are `?`
/// when even they cannot be read.
pub fn script(program: &str, ca_fingerprints: &[String]) -> String {
    format!(
        r#"#!/bin/sh
# Written by breakglass host-config --alert; run by rsyslog (omprog), one message per line on
# stdin: every sshd "Accepted publickey" line of a certificate, whatever its CA, and the
# two-person gate's ACCEPTED lines. In the background (rsyslog never waits for the pager) it runs
#   ALERT_PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT
# for every login by a certificate from one of the CAs below, and for a line it cannot attribute
# with certainty
#   ALERT_PROGRAM USER ADDRESS PORT TEXT {unverified} '{cut}'
# (or '{format}'). sshd escapes the key id (\n, \ooo, \\) and cuts its syslog message at 500
# characters, so a long key id pushes "(serial N) CA ... SHA256:..." off the end, and the key id
# may end in a forged tail of its own placed where the cut falls: any line of 500 characters or
# more is unverified, whatever its end says. A complete line is read from its END (CA
# fingerprint, serial, then the key id between); another CA's complete line stays silent.
# The line is never evaluated: awk prints one field per line; sh passes them on as separate,
# quoted arguments. ALERT_PROGRAM's environment has BREAKGLASS_ALERT=DRILL for a complete line
# whose key id starts with "drill " (breakglass fleet-drill), else BREAKGLASS_ALERT=LOGIN: a
# drill still pages, once per host, and says so.
# A two-person login (tag breakglass-gate, "ACCEPTED two-person login ...") runs
#   ALERT_PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT KEY_ID2 SERIAL2 CA_FINGERPRINT2
# (the gate writes key ids without '"', so they end at the next '"').
ALERT_PROGRAM={program}
CA_FINGERPRINTS={fps}
LC_ALL=C
export LC_ALL
while IFS= read -r line; do
  fields=$(printf '%s\n' "$line" | awk -v cas="$CA_FINGERPRINTS" '
    function ours(fp,    c, i, m) {{
      m = split(cas, c, " ")
      for (i = 1; i <= m; i++) if (c[i] == fp) return 1
      return 0
    }}
    function unverified(why, text,    w, user, address, port) {{
      user = "?"; address = "?"; port = "?"
      if (match($0, /^Accepted publickey for [^ ]+ from [^ ]+ port [0-9]+ /)) {{
        split(substr($0, 1, RLENGTH), w, " ")
        user = w[4]; address = w[6]; port = w[8]
      }} else if (match($0, /^ACCEPTED two-person login for [^ ]+ from [^ ]+ port [0-9]+:/)) {{
        split(substr($0, 1, RLENGTH - 1), w, " ")
        user = w[5]; address = w[7]; port = w[9]
      }}
      print "one"; print user; print address; print port; print "{unverified}"; print why; print text
    }}
    {{
      sub(/^[ \t]+/, "")
      if ($0 ~ /^ACCEPTED two-person login for /) {{
        if (!match($0, /^ACCEPTED two-person login for [^ ]+ from [^ ]+ port [0-9]+: serial [0-9]+ CA SHA256:[^ ]+ ID "[^"]*", serial [0-9]+ CA SHA256:[^ ]+ ID "[^"]*"$/)) {{
          unverified("{format}", $0)
          exit
        }}
        # a: ACCEPTED two-person login for USER from ADDR port PORT: serial S1 CA FP1 ID
        # b: , serial S2 CA FP2 ID
        split($0, q, "\"")
        split(q[1], a, " ")
        split(q[3], b, " ")
        port = a[9]; sub(/:$/, "", port)
        if (!ours(a[13]) || !ours(b[5])) exit
        print "two"; print a[5]; print a[7]; print port
        print a[11]; print a[13]; print q[2]; print b[3]; print b[5]; print q[4]
        exit
      }}
      if ($0 !~ /^Accepted publickey for / || index($0, "-CERT SHA256:") == 0) exit
      # USER ADDRESS PORT and the key fingerprint come before the key id: sshd never cuts them.
      prefix = 0
      text = $0
      if (match($0, /^Accepted publickey for [^ ]+ from [^ ]+ port [0-9]+ ssh2: [^ ]+-CERT SHA256:[^ ]+ ID /)) {{
        prefix = RLENGTH
        text = substr($0, prefix + 1)
      }}
      if (length($0) >= 500) {{ unverified("{cut}", text); exit }}
      if (!prefix || !match($0, / \(serial [0-9]+\) CA [^ ]+ SHA256:[^ ]+$/) || RSTART <= prefix) {{
        unverified("{format}", text)
        exit
      }}
      split(substr($0, 1, prefix), w, " ")
      keyid = substr($0, prefix + 1, RSTART - prefix - 1)
      split(substr($0, RSTART + 1), t, " ")
      serial = t[2]; sub(/\)$/, "", serial)
      if (!ours(t[5])) exit
      print "one"; print w[4]; print w[6]; print w[8]; print serial; print t[5]; print keyid
    }}')
  [ -n "$fields" ] || continue
  {{
    IFS= read -r kind
    IFS= read -r user
    IFS= read -r address
    IFS= read -r port
    IFS= read -r serial
    IFS= read -r ca
    IFS= read -r keyid
    IFS= read -r serial2
    IFS= read -r ca2
    IFS= read -r keyid2
  }} <<EOF
$fields
EOF
  # A fleet drill's certificate (key id "drill ...", read from a complete line) still pages,
  # marked BREAKGLASS_ALERT=DRILL; every other page is LOGIN.
  BREAKGLASS_ALERT=LOGIN
  case $kind/$serial/$keyid in one/[0-9]*/"drill "*) BREAKGLASS_ALERT=DRILL ;; esac
  export BREAKGLASS_ALERT
  if [ "$kind" = two ]; then
    "$ALERT_PROGRAM" "$user" "$address" "$port" "$keyid" "$serial" "$ca" "$keyid2" "$serial2" "$ca2" </dev/null >/dev/null 2>&1 &
  else
    "$ALERT_PROGRAM" "$user" "$address" "$port" "$keyid" "$serial" "$ca" </dev/null >/dev/null 2>&1 &
  fi
done
"#,
        program = sh_quote(program),
        fps = sh_quote(&ca_fingerprints.join(" ")),
        unverified = UNVERIFIED,
        cut = UNVERIFIED_CUT,
        format = UNVERIFIED_FORMAT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(sh_quote("/a'b"), "'/a'\\''b'");
    }

    #[test]
    fn programs_must_be_absolute_and_plain() {
        assert!(check_program("/usr/local/bin/page").is_ok());
        assert!(check_program("page").is_err());
        assert!(check_program("/bin/x\"y").is_err());
        assert!(check_program("/bin/x\ny").is_err());
    }
}
