# breakglass fleet-drill probe. Sent once, as the forced command of the drill certificate
# (`breakglass fleet-drill` puts `BG_NONCE=… BG_TWO_PERSON=…;` in front of this text), and run by
# the login shell sshd starts for it. Read-only and unprivileged: it reads files the login user
# can read and runs `getent`, never `sshd -T`, never writes. It prints one line per fact, in
# this order (the drill parses them strictly and judges them against what it expects):
#   breakglass-probe 1 NONCE            the nonce in the certificate: the forced command ran
#   sshd_config PATH                    the main sshd configuration read
#   trusted_user_ca_keys PATH|none      sshd's first TrustedUserCAKeys (Includes followed)
#   ca TYPE BASE64                      each key line of that file (the drill fingerprints them)
#   ca_error PATH                       that file cannot be read
#   revoked_keys PATH|none              sshd's first RevokedKeys
#   krl HEADER SHA256                   its first 20 bytes in hex (magic, format, version), digest
#   krl_error PATH                      that file cannot be read
#   alert FINGERPRINTS…                 an rsyslog rule running host-config's --alert script, and
#                                       the CA fingerprints that script pages for
#   alert_error PATH                    a rule naming a script that cannot be run
#   two_person NAME yes|no              whether `getent passwd NAME` finds the two-person account
#   end NONCE
# Paths are the host's real ones. BREAKGLASS_PROBE_ROOT (e.g. set with sshd's SetEnv, as the
# loopback tests do) reads ROOT/etc/ssh/sshd_config and ROOT/etc/rsyslog.d instead.
LC_ALL=C
export LC_ALL
R=${BREAKGLASS_PROBE_ROOT:-}
case $R in /*) ;; *) R= ;; esac
printf 'breakglass-probe 1 %s\n' "$BG_NONCE"
cfg=$R/etc/ssh/sshd_config
printf 'sshd_config %s\n' "$cfg"
ca_file=
krl_file=
depth=0
# scan FILE: sshd's first value of each keyword outside Match blocks, Includes followed in place.
scan() {
  [ -r "$1" ] || return 0
  depth=$((depth + 1))
  [ "$depth" -gt 8 ] && { depth=$((depth - 1)); return 0; }
  recs=$(awk '
    { sub(/\r$/, ""); sub(/^[ \t]+/, "") }
    $0 == "" || substr($0, 1, 1) == "#" { next }
    {
      kw = tolower($1); rest = $0
      if (index(kw, "=")) { v = substr(kw, index(kw, "=") + 1); kw = substr(kw, 1, index(kw, "=") - 1); rest = v " " substr($0, length($1) + 2) }
      else rest = substr($0, length($1) + 1)
      sub(/^[ \t=]+/, "", rest)
    }
    kw == "match" { inmatch = 1; next }
    inmatch { next }
    kw == "include" { print "inc " rest; next }
    kw == "trustedusercakeys" || kw == "revokedkeys" {
      if (substr(rest, 1, 1) == "\"") { rest = substr(rest, 2); sub(/".*/, "", rest) } else sub(/[ \t].*/, "", rest)
      print kw " " rest
    }' "$1" 2>/dev/null)
  while IFS= read -r rec; do
    case $rec in
      "inc "*)
        for pat in ${rec#inc }; do
          case $pat in /*) ;; *) pat=$R/etc/ssh/$pat ;; esac
          for f in $pat; do scan "$f"; done
        done ;;
      "trustedusercakeys "*) [ -n "$ca_file" ] || ca_file=${rec#trustedusercakeys } ;;
      "revokedkeys "*) [ -n "$krl_file" ] || krl_file=${rec#revokedkeys } ;;
    esac
  done <<RECS
$recs
RECS
  depth=$((depth - 1))
}
scan "$cfg"
printf 'trusted_user_ca_keys %s\n' "${ca_file:-none}"
if [ -n "$ca_file" ] && [ "$ca_file" != none ]; then
  if [ -r "$ca_file" ]; then
    awk '{ sub(/\r$/, ""); sub(/^[ \t]+/, "") } $0 != "" && substr($0, 1, 1) != "#" && n < 64 { n++; print "ca " $1 " " $2 }' "$ca_file"
  else
    printf 'ca_error %s\n' "$ca_file"
  fi
fi
printf 'revoked_keys %s\n' "${krl_file:-none}"
if [ -n "$krl_file" ] && [ "$krl_file" != none ]; then
  if [ -r "$krl_file" ]; then
    printf 'krl %s %s\n' "$(od -An -tx1 -N20 "$krl_file" | tr -d ' \n')" "$(sha256sum < "$krl_file" | cut -d' ' -f1)"
  else
    printf 'krl_error %s\n' "$krl_file"
  fi
fi
for rule in "$R"/etc/rsyslog.d/*.conf; do
  [ -r "$rule" ] || continue
  script=$(sed -n 's/.*name="breakglass_alert" binary="\([^"]*\)".*/\1/p' "$rule" | head -n 1)
  [ -n "$script" ] || continue
  if [ -x "$script" ] && [ -r "$script" ]; then
    printf 'alert %s\n' "$(sed -n "s/^CA_FINGERPRINTS='\\([^']*\\)'\$/\\1/p" "$script" | head -n 1)"
  else
    printf 'alert_error %s\n' "$script"
  fi
done
if [ -n "$BG_TWO_PERSON" ]; then
  if getent passwd "$BG_TWO_PERSON" >/dev/null 2>&1; then
    printf 'two_person %s yes\n' "$BG_TWO_PERSON"
  else
    printf 'two_person %s no\n' "$BG_TWO_PERSON"
  fi
fi
printf 'end %s\n' "$BG_NONCE"
