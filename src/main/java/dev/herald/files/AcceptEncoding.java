package dev.herald.files;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Chooses between a file and its precompressed siblings by {@code Accept-Encoding} (RFC 9110 §12.5.3).
 *
 * <p>The coding with the highest q-value wins; {@code q=0} means "not acceptable"; on a tie br beats gzip (it is
 * smaller). {@code *} stands for any coding not named. Identity is chosen when no coding is acceptable, when the
 * header is absent (the safe reading for old clients), or when the client names {@code identity} with a higher
 * q-value than every available coding. {@code x-gzip} counts as {@code gzip}.
 */
final class AcceptEncoding {
    static final String BR = "br";
    static final String GZIP = "gzip";
    /** RFC 9110 §12.4.2: {@code qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )}. */
    private static final Pattern QVALUE = Pattern.compile("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?");

    private AcceptEncoding() {
    }

    /** {@value #BR}, {@value #GZIP} or {@code null} for identity. */
    static String choose(String header, boolean haveBr, boolean haveGzip) {
        if (header == null || !(haveBr || haveGzip)) {
            return null;
        }
        double br = -1;
        double gzip = -1;
        double identity = -1;
        double star = -1;
        for (String element : header.split(",")) {
            String e = element.trim();
            if (e.isEmpty()) {
                continue;
            }
            int semi = e.indexOf(';');
            String coding = (semi < 0 ? e : e.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
            double q = semi < 0 ? 1 : qValue(e.substring(semi + 1));
            if (Double.isNaN(q)) {
                continue;
            }
            switch (coding) {
                case "br" -> br = Math.max(br, q);
                case "gzip", "x-gzip" -> gzip = Math.max(gzip, q);
                case "identity" -> identity = Math.max(identity, q);
                case "*" -> star = Math.max(star, q);
                default -> {
                    // a coding we have no sibling for
                }
            }
        }
        double qBr = !haveBr ? 0 : br >= 0 ? br : Math.max(star, 0);
        double qGzip = !haveGzip ? 0 : gzip >= 0 ? gzip : Math.max(star, 0);
        String best = qBr > 0 && qBr >= qGzip ? BR : qGzip > 0 ? GZIP : null;
        double bestQ = Math.max(qBr, qGzip);
        return best != null && identity > bestQ ? null : best;
    }

    /** The q parameter among {@code params} ({@code q=0.5; foo=bar}), 1 if absent, NaN if malformed. */
    private static double qValue(String params) {
        for (String p : params.split(";")) {
            String param = p.trim();
            int eq = param.indexOf('=');
            if (eq < 0 || !param.substring(0, eq).trim().equalsIgnoreCase("q")) {
                continue;
            }
            String v = param.substring(eq + 1).trim();
            if (!QVALUE.matcher(v).matches()) {
                return Double.NaN;
            }
            return Double.parseDouble(v);
        }
        return 1;
    }
}
