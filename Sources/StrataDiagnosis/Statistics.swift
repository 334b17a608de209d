import Foundation

/// Tests that say whether a count or a distribution really changed between the baseline and
/// the incident window, rather than comparing ratios against a fixed threshold: with 3 events
/// in the baseline a ratio of 3 is noise, with 3,000 it is an outage.
public enum RateTest {
    /// Comparison of two Poisson counts observed over different durations (the conditional
    /// binomial test, exact): given `window + baseline` events in all, under "the rate did not
    /// change" each falls in the window with probability `windowSeconds / (windowSeconds +
    /// baselineSeconds)`. Returns the one-sided p-value for "more in the window than expected".
    public static func increasePValue(window: Int, baseline: Int, windowSeconds: Double, baselineSeconds: Double) -> Double {
        increasePValue(window: window, baseline: baseline, windowExposure: windowSeconds, baselineExposure: baselineSeconds)
    }

    /// One-sided p-value for "fewer in the window than expected" (templates that vanish).
    public static func decreasePValue(window: Int, baseline: Int, windowSeconds: Double, baselineSeconds: Double) -> Double {
        decreasePValue(window: window, baseline: baseline, windowExposure: windowSeconds, baselineExposure: baselineSeconds)
    }

    /// The same test against any exposure instead of time: the workload's own records, the
    /// requests of a type, the occurrences of the step before. Counts compared per unit of
    /// traffic do not rise merely because the window is busier than the baseline.
    public static func increasePValue(window: Int, baseline: Int, windowExposure: Double, baselineExposure: Double) -> Double {
        guard let p = share(windowExposure, baselineExposure) else { return 1 }
        return binomialUpperTail(successes: window, trials: window + baseline, probability: p)
    }

    public static func decreasePValue(window: Int, baseline: Int, windowExposure: Double, baselineExposure: Double) -> Double {
        guard let p = share(windowExposure, baselineExposure) else { return 1 }
        // P(X <= k) with X ~ Bin(n, p) is P(Y >= n - k) with Y ~ Bin(n, 1 - p).
        let n = window + baseline
        return binomialUpperTail(successes: n - window, trials: n, probability: 1 - p)
    }

    /// `-log10(p)`, capped so that one overwhelming signal cannot drown every other one.
    public static func surprise(_ pValue: Double, cap: Double = 30) -> Double {
        guard pValue > 0 else { return cap }
        return min(cap, max(0, -log10(pValue)))
    }

    private static func share(_ windowSeconds: Double, _ baselineSeconds: Double) -> Double? {
        guard windowSeconds > 0, baselineSeconds > 0 else { return nil }
        return windowSeconds / (windowSeconds + baselineSeconds)
    }

    /// P(X >= k), X ~ Binomial(n, p). Exact (log-space sum) up to a few thousand trials, a
    /// normal approximation with continuity correction beyond, where it is accurate enough
    /// for ranking and the exact sum would cost O(n) per template.
    public static func binomialUpperTail(successes k: Int, trials n: Int, probability p: Double) -> Double {
        if k <= 0 { return 1 }
        if k > n { return 0 }
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        if n > 4000 {
            let mean = Double(n) * p
            let sd = (Double(n) * p * (1 - p)).squareRoot()
            let z = (Double(k) - 0.5 - mean) / sd
            return 0.5 * erfc(z / 2.0.squareRoot())
        }
        let logP = log(p)
        let logQ = log1p(-p)
        let logNFactorial = logGamma(Double(n) + 1)
        var maxTerm = -Double.infinity
        var terms: [Double] = []
        terms.reserveCapacity(n - k + 1)
        for i in k...n {
            let term = logNFactorial - logGamma(Double(i) + 1) - logGamma(Double(n - i) + 1)
                + Double(i) * logP + Double(n - i) * logQ
            terms.append(term)
            maxTerm = max(maxTerm, term)
            // Terms fall geometrically past the mode; stop once they no longer matter.
            if Double(i) > Double(n) * p, term < maxTerm - 40 { break }
        }
        let sum = terms.reduce(0) { $0 + exp($1 - maxTerm) }
        return min(1, exp(maxTerm) * sum)
    }
}

/// ln Γ(x); the annotation picks the C function among the overloads Foundation exposes.
func logGamma(_ x: Double) -> Double {
    let value: Double = lgamma(x)
    return value
}
