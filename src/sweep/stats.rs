//! Statistics over the replications of one grid point: mean, sample standard deviation
//! and the 95% confidence interval of the mean (Student's t, n - 1 degrees of freedom).
//!
//! Replications are independent runs with different seeds, so the t interval is exact
//! for normally distributed metrics and a good approximation for the others once n is
//! around 10 or more. Sums run in a fixed order, so results are the same on every run.

/// What the replications of one point say about one metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator); `None` with fewer than two values.
    pub sd: Option<f64>,
    /// 95% confidence interval of the mean; `None` with fewer than two values.
    pub ci95: Option<(f64, f64)>,
}

/// Mean, standard deviation and 95% confidence interval of `values` (not empty).
pub fn estimate(values: &[f64]) -> Estimate {
    assert!(!values.is_empty(), "a grid point has at least one replication");
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Estimate {
            n,
            mean,
            sd: None,
            ci95: None,
        };
    }
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (squares / (n - 1) as f64).sqrt();
    let half = t_975(n - 1) * sd / (n as f64).sqrt();
    Estimate {
        n,
        mean,
        sd: Some(sd),
        ci95: Some((mean - half, mean + half)),
    }
}

/// The 97.5th percentile of Student's t distribution with `df` degrees of freedom (the
/// factor of a two-sided 95% interval). Exact to six decimals where tabulated (df 1 to
/// 30 and the rows below), interpolated linearly in 1/df between rows elsewhere, which
/// is off by less than 10^-4.
pub fn t_975(df: usize) -> f64 {
    assert!(df >= 1, "t needs at least one degree of freedom");
    const SMALL: [f64; 30] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985,
        2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873,
        2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
    ];
    const LARGE: [(usize, f64); 9] = [
        (30, 2.042272),
        (40, 2.021075),
        (60, 2.000298),
        (80, 1.990063),
        (100, 1.983972),
        (120, 1.979930),
        (200, 1.971896),
        (500, 1.964720),
        (1000, 1.962339),
    ];
    /// The normal distribution's 97.5th percentile: t's limit as df grows.
    const Z_975: f64 = 1.959964;
    if df <= SMALL.len() {
        return SMALL[df - 1];
    }
    let pairs = LARGE.windows(2).map(|w| (w[0], w[1]));
    for ((df_low, t_low), (df_high, t_high)) in pairs {
        if df <= df_high {
            let (x, x_low, x_high) = (1.0 / df as f64, 1.0 / df_low as f64, 1.0 / df_high as f64);
            return t_high + (t_low - t_high) * (x - x_high) / (x_low - x_high);
        }
    }
    let (df_last, t_last) = LARGE[LARGE.len() - 1];
    Z_975 + (t_last - Z_975) * df_last as f64 / df as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn known_answer() {
        // 1..5: mean 3, variance 2.5, half-width t(4) * sqrt(2.5 / 5) = 2.776445 * 0.707107.
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, 3.0);
        assert!((e.sd.unwrap() - 2.5f64.sqrt()).abs() < 1e-12);
        let (low, high) = e.ci95.unwrap();
        assert!((low - 1.036757).abs() < 1e-6, "{low}");
        assert!((high - 4.963243).abs() < 1e-6, "{high}");
        let one = estimate(&[7.0]);
        assert_eq!((one.mean, one.sd, one.ci95), (7.0, None, None));
        let same = estimate(&[2.0, 2.0, 2.0]);
        assert_eq!(same.ci95, Some((2.0, 2.0)));
    }

    #[test]
    fn t_table_and_interpolation() {
        assert_eq!(t_975(1), 12.706205);
        assert_eq!(t_975(9), 2.262157);
        assert_eq!(t_975(40), 2.021075);
        // Exact values 2.008559 (df 50) and 1.960201 (df 10^4).
        assert!((t_975(50) - 2.008559).abs() < 1e-4, "{}", t_975(50));
        assert!((t_975(10_000) - 1.960201).abs() < 1e-4, "{}", t_975(10_000));
        assert!((t_975(usize::MAX) - 1.959964).abs() < 1e-6);
    }

    /// The interval covers a known mean 95% of the time: 4,000 samples of five draws
    /// from N(10, 2^2). With the normal factor 1.96 instead of t(4) = 2.78 the coverage
    /// would be about 88%, and this test would fail.
    #[test]
    fn coverage_of_a_known_mean_is_95_percent() {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(2024);
        let normal = Normal::new(10.0, 2.0).unwrap();
        let trials = 4_000;
        let mut covered = 0;
        let mut variance_sum = 0.0;
        for _ in 0..trials {
            let sample: Vec<f64> = (0..5).map(|_| normal.sample(&mut rng)).collect();
            let e = estimate(&sample);
            let (low, high) = e.ci95.unwrap();
            covered += usize::from(low <= 10.0 && 10.0 <= high);
            variance_sum += e.sd.unwrap().powi(2);
        }
        let coverage = covered as f64 / trials as f64;
        assert!((0.935..=0.965).contains(&coverage), "coverage {coverage}");
        // The sample variance is unbiased: its mean is close to 4.
        let variance = variance_sum / trials as f64;
        assert!((variance - 4.0).abs() < 0.15, "mean sample variance {variance}");
    }
}
