//! Number formatting that matches a C++ `std::ostream`.
//!
//! Mesos prints doubles with an ostream in its default float mode,
//! which is printf's `%g` at the stream's precision: durations and
//! scalar resources use 15 significant digits, other flag values the
//! default 6. Matching it keeps `/flags`, `--help` and resource strings
//! byte-identical with Mesos's.

/// Significant digits Mesos uses for durations and scalar resources
/// (`std::numeric_limits<double>::digits10`).
pub(crate) const DOUBLE_DIGITS: usize = 15;

/// Significant digits of a default-constructed C++ stream.
pub(crate) const STREAM_DEFAULT_DIGITS: usize = 6;

/// Formats `value` as printf's `%.{precision}g` does: the shorter of
/// fixed and scientific notation, trailing zeros removed.
pub(crate) fn format_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return if value.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        }
        .to_string();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }

    let precision = precision.max(1);
    // Scientific rendering tells us the decimal exponent after rounding
    // to `precision` significant digits, which decides the style.
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = match scientific.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (scientific.clone(), 0),
    };

    if exponent < -4 || exponent >= precision as i32 {
        let mantissa = trim_fraction(&mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        trim_fraction(&format!("{value:.decimals$}"))
    }
}

/// Removes trailing zeros of a fraction, and the point if nothing is left.
fn trim_fraction(text: &str) -> String {
    if !text.contains('.') {
        return text.to_string();
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_printf_g() {
        assert_eq!(format_g(1.0, 15), "1");
        assert_eq!(format_g(1.5, 15), "1.5");
        assert_eq!(format_g(0.1, 15), "0.1");
        assert_eq!(format_g(1.0 / 3.0, 15), "0.333333333333333");
        assert_eq!(format_g(1024.0, 15), "1024");
        assert_eq!(format_g(1e20, 15), "1e+20");
        assert_eq!(format_g(0.00001, 6), "1e-05");
        assert_eq!(format_g(0.0001, 6), "0.0001");
        assert_eq!(format_g(123456789.0, 6), "1.23457e+08");
        assert_eq!(format_g(-2.5, 6), "-2.5");
        assert_eq!(format_g(0.0, 6), "0");
    }
}
