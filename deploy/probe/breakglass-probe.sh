# breakglass fleet-drill probe. Sent once, as the forced command of the drill certificate
# (`breakglass fleet-drill` puts `BG_NONCE=… BG_TWO_PERSON=…;` in front of this text), and run by
# the login shell sshd starts for it. Read-only and unprivileged: it reads files the login user
# can read and runs `getent`, never `sshd -T`, never writes. It prints one line per fact, in
# this order (the drill parses them strictly and judges them against what it expects):
#   breakglass-probe 1 NONCE            the nonce in the certificate: the forced command ran
#   probe_root ROOT                     BREAKGLASS_PROBE_ROOT redirected the probe (see below)
#   sshd_config PATH                    the main sshd configuration read
#   match_setting KEYWORD CRITERIA…     a Match block sets TrustedUserCAKeys, RevokedKeys or
#                                       AuthorizedPrincipalsFile (the probe cannot tell whether
#                                       it applies to the drill's login; the drill says so)
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
# Shell builtins only, apart from od and sha256sum for the KRL and getent: a drill of hundreds of
# hosts costs them little. Only regular files are read (a FIFO or a device is skipped, never
# waited on). Paths are the host's real ones. BREAKGLASS_PROBE_ROOT (set with sshd's SetEnv, as
# the loopback tests do) reads ROOT/etc/ssh/sshd_config and ROOT/etc/rsyslog.d instead; it comes
# from the session's environment, which a user may set where sshd has PermitUserEnvironment or
# AcceptEnv, so the probe says so (`probe_root`) and the drill refuses to call such a host ready
# unless it runs with BREAKGLASS_FLEET_TEST_ROOTS=1 (loopback test fleets only).
LC_ALL=C
export LC_ALL
R=${BREAKGLASS_PROBE_ROOT:-}
case $R in /*) ;; *) R= ;; esac
printf 'breakglass-probe 1 %s\n' "$BG_NONCE"
[ -z "$R" ] || printf 'probe_root %s\n' "$R"
cfg=$R/etc/ssh/sshd_config
printf 'sshd_config %s\n' "$cfg"
CR=$(printf '\r')
ca_file=
krl_file=
depth=0
matches=0
criteria=
# scan FILE: sshd's first TrustedUserCAKeys and RevokedKeys outside Match blocks, Includes read
# in place (relative ones under /etc/ssh, as sshd does); a Match ends at the end of its file.
# Inside a Match block those keywords and AuthorizedPrincipalsFile are reported, not followed.
scan() {
  [ -f "$1" ] && [ -r "$1" ] && [ "$depth" -lt 8 ] || return 0
  depth=$((depth + 1))
  inmatch=
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%"$CR"}
    first=${line%%[ 	]*}
    case $first in *=*) line="${first%%=*} ${line#*=}" ;; esac
    set -f
    # shellcheck disable=SC2086
    set -- $line
    set +f
    case ${1-} in '' | '#'*) continue ;; esac
    kw=$1
    shift
    [ "${1-}" = = ] && shift
    case $kw in
      [Mm][Aa][Tt][Cc][Hh]) inmatch=1; criteria=$*; continue ;;
    esac
    if [ -n "$inmatch" ]; then
      case $kw in
        [Tt][Rr][Uu][Ss][Tt][Ee][Dd][Uu][Ss][Ee][Rr][Cc][Aa][Kk][Ee][Yy][Ss]) set_kw=TrustedUserCAKeys ;;
        [Rr][Ee][Vv][Oo][Kk][Ee][Dd][Kk][Ee][Yy][Ss]) set_kw=RevokedKeys ;;
        [Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Ee][Dd][Pp][Rr][Ii][Nn][Cc][Ii][Pp][Aa][Ll][Ss][Ff][Ii][Ll][Ee]) set_kw=AuthorizedPrincipalsFile ;;
        *) continue ;;
      esac
      if [ "$matches" -lt 16 ]; then
        matches=$((matches + 1))
        printf 'match_setting %s %s\n' "$set_kw" "$criteria"
      fi
      continue
    fi
    val=${1-}
    case $val in \"*) val=${line#*\"}; val=${val%%\"*} ;; esac
    case $kw in
      [Ii][Nn][Cc][Ll][Uu][Dd][Ee])
        saved=$inmatch
        for pat in "$@"; do
          case $pat in /*) ;; *) pat=$R/etc/ssh/$pat ;; esac
          # shellcheck disable=SC2086
          for f in $pat; do scan "$f"; done
        done
        inmatch=$saved ;;
      [Tt][Rr][Uu][Ss][Tt][Ee][Dd][Uu][Ss][Ee][Rr][Cc][Aa][Kk][Ee][Yy][Ss])
        [ -n "$ca_file" ] || ca_file=$val ;;
      [Rr][Ee][Vv][Oo][Kk][Ee][Dd][Kk][Ee][Yy][Ss])
        [ -n "$krl_file" ] || krl_file=$val ;;
    esac
  done < "$1"
  depth=$((depth - 1))
}
scan "$cfg"
printf 'trusted_user_ca_keys %s\n' "${ca_file:-none}"
if [ -n "$ca_file" ] && [ "$ca_file" != none ]; then
  if [ -f "$ca_file" ] && [ -r "$ca_file" ]; then
    n=0
    while read -r t b _ || [ -n "$t" ]; do
      case $t in '' | '#'*) continue ;; esac
      n=$((n + 1))
      [ "$n" -le 64 ] || break
      printf 'ca %s %s\n' "$t" "${b%"$CR"}"
    done < "$ca_file"
  else
    printf 'ca_error %s\n' "$ca_file"
  fi
fi
printf 'revoked_keys %s\n' "${krl_file:-none}"
if [ -n "$krl_file" ] && [ "$krl_file" != none ]; then
  if [ -f "$krl_file" ] && [ -r "$krl_file" ]; then
    # shellcheck disable=SC2046
    set -- $(od -An -tx1 -N20 "$krl_file")
    h=
    for x; do h=$h$x; done
    # shellcheck disable=SC2046
    set -- $(sha256sum < "$krl_file")
    printf 'krl %s %s\n' "$h" "$1"
  else
    printf 'krl_error %s\n' "$krl_file"
  fi
fi
for rule in "$R"/etc/rsyslog.d/*.conf; do
  [ -f "$rule" ] && [ -r "$rule" ] || continue
  script=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      *'name="breakglass_alert" binary="'*)
        script=${line#*'name="breakglass_alert" binary="'}
        script=${script%%\"*}
        break ;;
    esac
  done < "$rule"
  [ -n "$script" ] || continue
  if [ -f "$script" ] && [ -x "$script" ] && [ -r "$script" ]; then
    fps=
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        "CA_FINGERPRINTS='"*"'") fps=${line#"CA_FINGERPRINTS='"}; fps=${fps%"'"}; break ;;
      esac
    done < "$script"
    printf 'alert %s\n' "$fps"
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
