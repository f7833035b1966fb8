//! The machine a measurement ran on, for the profile's comments and the docs: CPU model,
//! logical CPUs, memory, kernel, and the date (UTC).

/// What the profile records about the machine.
#[derive(Clone, Debug)]
pub struct Machine {
    pub cpu: String,
    pub cpus: usize,
    pub memory_bytes: Option<u64>,
    pub kernel: String,
    /// RFC 3339, seconds, UTC.
    pub date: String,
}

impl Machine {
    /// This machine, now.
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim())
            })
            .unwrap_or(std::env::consts::ARCH)
            .to_string();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_bytes = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("{} {}", std::env::consts::OS, s.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.to_string());
        Machine {
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            kernel,
            date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        }
    }

    /// "AMD EPYC 7B13, 2 CPUs, 24.0 GiB, linux 6.1.0".
    pub fn describe(&self) -> String {
        let memory = self.memory_bytes.map_or("memory unknown".to_string(), |b| {
            format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
        });
        format!("{}, {} CPUs, {memory}, {}", self.cpu, self.cpus, self.kernel)
    }
}
