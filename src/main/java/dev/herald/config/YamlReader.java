package dev.herald.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.reader.ReaderException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads the YAML Herald accepts (the config file, and {@code push.rules} given as flow YAML or JSON) into a Jackson
 * tree: UTF-8, one document, no duplicate keys and no aliases. Jackson hands an alias ({@code *name}) over as the
 * text {@code name} instead of the anchored value, so {@code cache-control: *cc} would quietly send
 * {@code cache-control: cc}: aliases are refused. An anchor alone ({@code &name}) is allowed; it changes nothing.
 *
 * <p>Every problem throws a {@link ConfigException} whose message starts with the position, such as
 * {@code line 3, column 1: expected ',' or ']', but got <stream end> (while parsing a flow sequence started at
 * line 2, column 10)}; the caller puts the file or key in front of it.
 */
final class YamlReader {
    private static final ObjectMapper MAPPER = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private YamlReader() {
    }

    /** The tree of {@code text}; null, or a missing node, when it holds no document. */
    static JsonNode read(String text) {
        try {
            checkAliasesAndDocuments(text);
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof ReaderException r) { // a character YAML refuses, with no line of its own
                int at = text.offsetByCodePoints(0, Math.min(r.getPosition(), text.codePointCount(0, text.length())));
                int lineStart = text.lastIndexOf('\n', at - 1) + 1;
                long line = text.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
                throw new ConfigException(String.format("line %d, column %d: the character U+%04X is not allowed "
                        + "in YAML", line, text.codePointCount(lineStart, at) + 1, r.getCodePoint()), e);
            }
            throw new ConfigException(problem(e), e);
        }
    }

    /** The text of a file's bytes, which must be UTF-8: {@code is not UTF-8 (byte 0xE9 at line 2, column 18)}. */
    static String utf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int bad = in.position();
            int lineStart = 0;
            int line = 1;
            for (int i = 0; i < bad; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            int column = new String(bytes, lineStart, bad - lineStart, StandardCharsets.UTF_8).length() + 1;
            throw new ConfigException(String.format("is not UTF-8 (byte 0x%02X at line %d, column %d)",
                    bytes[bad] & 0xff, line, column));
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** Reads the tokens once, before Jackson builds the tree, since the tree no longer tells an alias from text. */
    private static void checkAliasesAndDocuments(String text) throws JsonProcessingException {
        try (JsonParser parser = MAPPER.createParser(text)) {
            YAMLParser yaml = (YAMLParser) parser;
            int depth = 0;
            boolean documentRead = false;
            for (JsonToken t = parser.nextToken(); t != null; t = parser.nextToken()) {
                if (depth == 0 && documentRead) {
                    throw new ConfigException(at(parser.currentTokenLocation())
                            + "more than one YAML document (expected: one)");
                }
                if (yaml.isCurrentAlias()) {
                    throw aliasRefused(parser.currentTokenLocation());
                }
                if (t.isStructStart()) {
                    depth++;
                } else if (t.isStructEnd()) {
                    depth--;
                }
                documentRead |= depth == 0;
            }
        } catch (JsonProcessingException e) {
            if (String.valueOf(e.getOriginalMessage()).contains("AliasEvent")) { // an alias used as a key
                throw aliasRefused(e.getLocation());
            }
            throw e;
        } catch (IOException e) { // a String source has nothing else to fail
            throw new IllegalStateException(e);
        }
    }

    private static ConfigException aliasRefused(JsonLocation location) {
        return new ConfigException(at(location) + "YAML aliases (*name) are not supported (expected: the value "
                + "written out)");
    }

    /** The parser's problem with its position, and what it was reading when it found it. */
    private static String problem(JsonProcessingException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof MarkedYAMLException m && m.getProblemMark() != null) {
                String context = m.getContext() == null ? "" : " (" + m.getContext()
                        + (m.getContextMark() == null ? "" : " started at " + at(m.getContextMark())) + ")";
                return at(m.getProblemMark()) + ": " + firstLine(m.getProblem()) + context;
            }
        }
        return at(e.getLocation()) + firstLine(e.getOriginalMessage());
    }

    private static String at(Mark mark) {
        return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    /** {@code line 2, column 5: }, or nothing when the parser does not know where it was. */
    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 1 ? ""
                : "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
