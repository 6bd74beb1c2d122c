//! `breakglass fleet-drill`: its arguments, and the table (or JSON) of the library's report.
//! Host text (destinations, reasons quoting a host's paths) is sanitised here, where printed.

use crate::cli::FleetDrillArgs;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::ops::fleet_drill::{self, DrillCert, FanOut, Report};
use breakglass::sanitize::sanitize;
use breakglass::token::Backend;

pub(super) fn run(
    a: FleetDrillArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    let now = breakglass::now();
    if let Some(p) = &a.report {
        let mut r = fleet_drill::read_report(p)?;
        // The file's own counts are not trusted (drill.yml's last step exits on this): a host
        // is ready only when its row says so and gives no reason.
        r.ready = r
            .hosts
            .iter()
            .filter(|h| h.ready && h.reason.is_none())
            .count();
        r.total = r.hosts.len();
        return show(&r, json);
    }
    let cert = DrillCert {
        principals: a.principals.clone(),
        ca_files: a.ca.clone(),
        application: a.application.clone(),
        backend: a.token.backend.or(outer),
        device: a.token.device.clone(),
        from: a.from.clone(),
        reason: a.reason.clone(),
        two_person: a.two_person.clone(),
    };
    if let Some(raw) = &a.judge {
        let dir = raw.parent().unwrap_or(std::path::Path::new("."));
        let r = fleet_drill::judge_file(raw, &dir.join("drill.json"), now)?;
        return show(&r, json);
    }
    let expect =
        fleet_drill::expectations(&a.ca, a.krl.as_deref(), a.alert, a.two_person.as_deref())?;
    if let Some(dir) = &a.mint_only {
        let m = fleet_drill::mint_only(&cert, expect, dir, now, ui)?;
        if json {
            return output::json(&m);
        }
        say!(
            "Minted the drill certificate \"{}\" (serial {}, valid 10 minutes) into {}: drill, drill-cert.pub, drill.json.",
            sanitize(&m.key_id),
            m.serial,
            sanitize(&dir.display().to_string())
        );
        return Ok(());
    }
    let hosts = a.hosts.as_deref().unwrap_or(std::path::Path::new("-"));
    let fan = FanOut {
        parallel: a.parallel,
        timeout: a.timeout,
        known_hosts: a.known_hosts,
        ssh_config: a.ssh_config,
    };
    let r = fleet_drill::fleet_drill(hosts, &cert, expect, &fan, now, ui)?;
    show(&r, json)
}

/// Prints the report (table or JSON); an error unless every host is ready.
fn show(r: &Report, json: bool) -> Result<(), Error> {
    if json {
        output::json(r)?;
    } else {
        output::out_lines(&table(r));
    }
    if r.ready == r.total {
        Ok(())
    } else {
        Err(Error::FleetNotReady {
            not_ready: r.total - r.ready,
            total: r.total,
        })
    }
}

/// The report as a table: one row per host, the reason last.
pub(crate) fn table(r: &Report) -> Vec<String> {
    let width = r
        .hosts
        .iter()
        .map(|h| sanitize(&h.destination).chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let mut s = vec![
        format!(
            "Fleet drill with the certificate \"{}\" (serial {}), started {}",
            sanitize(&r.key_id),
            r.serial,
            sanitize(&r.started)
        ),
        String::new(),
        format!(
            "{:<width$}  {:<8}  {:<5}  {:<9}  {:<7}  {:>6}  REASON",
            "HOST", "LOGIN", "CAS", "KRL", "ALERT", "SECS"
        ),
    ];
    for h in &r.hosts {
        let host: String = sanitize(&h.destination).chars().take(40).collect();
        let row = format!(
            "{host:<width$}  {:<8}  {:<5}  {:<9}  {:<7}  {:>6.2}  {}",
            sanitize(&h.login),
            sanitize(&h.cas),
            sanitize(&h.krl),
            sanitize(&h.alert),
            h.seconds,
            if h.ready && h.reason.is_none() {
                "ready".to_string()
            } else {
                sanitize(h.reason.as_deref().unwrap_or("not ready"))
            }
        );
        s.push(row.trim_end().to_string());
    }
    s.push(String::new());
    s.push(format!(
        "{} of {} hosts ready ({:.2} s).",
        r.ready, r.total, r.seconds
    ));
    s
}
