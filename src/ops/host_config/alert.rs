//! `host-config --alert PROGRAM`: an rsyslog rule and a small POSIX sh/awk script that run
//! PROGRAM for every sshd login by a certificate from a break-glass CA, and for nothing else.
//!
//! sshd 9.2 logs each accepted certificate login at INFO (`auth2.c: auth_log`, REFERENCE.md §10):
//! `Accepted publickey for USER from ADDR port N ssh2: TYPE-CERT SHA256:FP ID KEYID (serial N)
//! CA CATYPE SHA256:CAFP`. The key id is printed bare (only `log.c`'s strnvis of control
//! characters), so it may hold spaces, quotes, `$(…)` or a fake "(serial 1) CA … SHA256:…" of its
//! own: the script reads the CA fingerprint, serial and key id from the END of the line, checks
//! the fingerprint against the list it was written with, and hands the fields to PROGRAM as
//! separate arguments. No log text is ever evaluated by a shell.

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

/// The rsyslog rule: sshd messages that may be a break-glass login go to the script (omprog,
/// message on stdin, in its own queue so a slow pager never stalls the host's logging). The
/// `contains` tests only narrow what reaches the script; the script decides.
pub fn rsyslog_rule(script: &Path, ca_fingerprints: &[String]) -> String {
    let fps = ca_fingerprints
        .iter()
        .map(|fp| format!("$msg contains \" {fp}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    format!(
        "# Written by breakglass host-config --alert. Every sshd login by a certificate from a\n\
         # break-glass CA runs {script} (it checks the line and pages).\n\
         module(load=\"omprog\")\n\
         template(name=\"breakglass_alert_line\" type=\"string\" string=\"%msg%\\n\")\n\
         if (($programname == \"sshd\" or $programname == \"sshd-session\") and $msg contains \"Accepted publickey for \" and ({fps})) or ($programname == \"breakglass-gate\" and $msg contains \"ACCEPTED two-person login for \") then {{\n\
         \x20 action(type=\"omprog\" name=\"breakglass_alert\" binary=\"{script}\" template=\"breakglass_alert_line\" queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\")\n\
         }}\n",
        script = script.display(),
    )
}

/// Single-quotes `s` for sh (`'` becomes `'\''`).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The script omprog runs: reads sshd messages on stdin, one per line, and runs
/// `PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT` for each break-glass login, and
/// `PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT KEY_ID2 SERIAL2 CA_FINGERPRINT2` for
/// each two-person login the gate let in (`two_person.rs`; sshd logs the first of the two
/// certificates only as `Partial publickey`, so this is the line that names both custodians).
pub fn script(program: &str, ca_fingerprints: &[String]) -> String {
    format!(
        r#"#!/bin/sh
# Written by breakglass host-config --alert; run by rsyslog (omprog), one sshd message per line
# on stdin. For every login by a certificate from one of the CAs below it runs
#   ALERT_PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT
# in the background (rsyslog never waits for the pager). The line is never evaluated: awk reads
# the CA fingerprint, serial and key id from the END of the line (sshd does not escape the key
# id) and prints one field per line; sh passes them on as separate, quoted arguments.
# A two-person login (tag breakglass-gate, "ACCEPTED two-person login …") runs
#   ALERT_PROGRAM USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT KEY_ID2 SERIAL2 CA_FINGERPRINT2
# (the gate writes key ids without '"', so they end at the next '"').
ALERT_PROGRAM={program}
CA_FINGERPRINTS={fps}
LC_ALL=C
export LC_ALL
while IFS= read -r line; do
  fields=$(printf '%s\n' "$line" | awk -v cas="$CA_FINGERPRINTS" '
    {{
      sub(/^[ \t]+/, "")
      if (match($0, /^ACCEPTED two-person login for [^ ]+ from [^ ]+ port [0-9]+: serial [0-9]+ CA SHA256:[^ ]+ ID "[^"]*", serial [0-9]+ CA SHA256:[^ ]+ ID "[^"]*"$/)) {{
        # a: ACCEPTED two-person login for USER from ADDR port PORT: serial S1 CA FP1 ID
        # b: , serial S2 CA FP2 ID
        split($0, q, "\"")
        split(q[1], a, " ")
        split(q[3], b, " ")
        port = a[9]; sub(/:$/, "", port)
        m = split(cas, c, " ")
        found = 0
        for (i = 1; i <= m; i++) if (c[i] == a[13]) found++
        for (i = 1; i <= m; i++) if (c[i] == b[5]) found++
        if (found != 2) exit
        print "two"; print a[5]; print a[7]; print port
        print a[11]; print a[13]; print q[2]; print b[3]; print b[5]; print q[4]
        exit
      }}
      if (!match($0, /^Accepted publickey for [^ ]+ from [^ ]+ port [0-9]+ ssh2: [^ ]+-CERT SHA256:[^ ]+ ID /)) exit
      prefix = RLENGTH
      split(substr($0, 1, prefix), w, " ")
      if (!match($0, / \(serial [0-9]+\) CA [^ ]+ SHA256:[^ ]+$/)) exit
      if (RSTART <= prefix) exit
      keyid = substr($0, prefix + 1, RSTART - prefix - 1)
      n = split(substr($0, RSTART + 1), t, " ")
      serial = t[2]; sub(/\)$/, "", serial)
      ca = t[5]
      found = 0
      m = split(cas, c, " ")
      for (i = 1; i <= m; i++) if (c[i] == ca) found = 1
      if (!found) exit
      print "one"; print w[4]; print w[6]; print w[8]; print serial; print ca; print keyid
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
  if [ "$kind" = two ]; then
    "$ALERT_PROGRAM" "$user" "$address" "$port" "$keyid" "$serial" "$ca" "$keyid2" "$serial2" "$ca2" </dev/null >/dev/null 2>&1 &
  else
    "$ALERT_PROGRAM" "$user" "$address" "$port" "$keyid" "$serial" "$ca" </dev/null >/dev/null 2>&1 &
  fi
done
"#,
        program = sh_quote(program),
        fps = sh_quote(&ca_fingerprints.join(" ")),
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
