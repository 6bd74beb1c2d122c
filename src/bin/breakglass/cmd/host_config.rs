//! `breakglass host-config`.

use crate::cli::HostConfigArgs;
use crate::output::say;
use breakglass::ops::host_config::{self, HostConfigRequest};
use breakglass::Error;

pub(super) fn run(a: HostConfigArgs) -> Result<(), Error> {
    if let Some(pattern) = &a.known_hosts {
        let mut cas = Vec::new();
        for f in &a.cas {
            cas.extend(host_config::read_ca_file(f)?);
        }
        for l in host_config::known_hosts_lines(&cas, pattern)? {
            say!("{l}");
        }
        return Ok(());
    }
    let req = HostConfigRequest {
        ca_files: a.cas,
        etc: a.etc,
        sshd_config: a.sshd_config,
        principals: a.principals,
        alert: a.alert,
        two_person: a.two_person,
        two_person_user: a.two_person_user,
        two_person_log_socket: a.two_person_log_socket,
    };
    let plan = host_config::plan(&req)?;
    if a.cloud_init {
        say!(
            "{}",
            host_config::cloud_init::render(&plan).trim_end_matches('\n')
        );
        return Ok(());
    }
    match &a.out {
        Some(out) => {
            let w = host_config::write(&plan, out, a.force)?;
            say!(
                "{}",
                host_config::render(&plan, Some((out, &w))).trim_end_matches('\n')
            );
        }
        None => say!(
            "{}",
            host_config::render(&plan, None).trim_end_matches('\n')
        ),
    }
    Ok(())
}
