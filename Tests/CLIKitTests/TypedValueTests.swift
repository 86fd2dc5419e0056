import Testing

@testable import CLIKit

@Suite("Typed values: durations, choices, integers")
struct TypedValueTests {
    func listing(_ arguments: [String]) throws -> List { try List.parse(arguments) }

    @Test(
        "durations are whole numbers with units s, m, h, d, largest first",
        arguments: [
            ("90s", 90), ("30m", 1_800), ("24h", 86_400), ("90d", 7_776_000), ("1h30m", 5_400),
            ("1d12h", 129_600), ("0h5m", 300), ("1d1h1m1s", 90_061), ("007s", 7),
        ] as [(String, Int64)])
    func validDurations(text: String, seconds: Int64) throws {
        #expect(try listing(["--expiring-within", text]).expiringWithin == .seconds(seconds))
    }

    @Test(
        "malformed durations are usage errors that show the accepted forms",
        arguments: [
            "", "90", "s", "-5m", "+5m", "5x", "1h 30m", " 1h", "30m1h", "1h1h", "1.5h", "5M", "１m", "1h30",
            "1hh", "5 m", "٣m", "1w",
        ])
    func malformedDurations(text: String) {
        let error = usageError { try listing(["--expiring-within=\(text)"]) }
        #expect(error?.code == .invalidValue)
        let expected = "--expiring-within expects a duration such as 90s, 30m, 24h, 90d or 1h30m; got '\(text)'"
        #expect(error?.reason == expected)
    }

    @Test("a zero duration is rejected", arguments: ["0s", "0d", "0h0m", "000m"])
    func zeroDuration(text: String) {
        let error = usageError { try listing(["--expiring-within", text]) }
        #expect(error?.reason == "--expiring-within must be longer than zero, got '\(text)'")
    }

    @Test(
        "a duration past Int64 seconds is rejected, not wrapped",
        arguments: ["9223372036854775808s", "106751991167301d", "106751991167300d86400s", "99999999999999999999999d"])
    func overflowingDuration(text: String) {
        #expect(ParsedArguments.parseDuration(text) == .overflow)
        let error = usageError { try listing(["--expiring-within", text]) }
        #expect(error?.code == .invalidValue)
        #expect(error?.reason == "--expiring-within is too long to represent, got '\(text)'")
    }

    @Test("the largest duration that fits is accepted")
    func largestDuration() {
        #expect(ParsedArguments.parseDuration("9223372036854775807s") == .valid(seconds: .max))
        #expect(ParsedArguments.parseDuration("106751991167300d") == .valid(seconds: 106_751_991_167_300 * 86_400))
    }

    @Test("a choice must be one of the listed values")
    func choices() throws {
        #expect(try listing([]).format == "table")
        #expect(try listing(["--format", "json"]).format == "json")
        let wrong = usageError { try listing(["--format", "xml"]) }
        #expect(wrong?.code == .invalidValue)
        #expect(wrong?.reason == "--format expects one of table, json; got 'xml'")
        #expect(
            usageError { try listing(["--format=jsn"]) }?.reason
                == "--format expects one of table, json; got 'jsn'. Did you mean 'json'?")
        #expect(usageError { try listing(["--format=JSON"]) } != nil)
    }

    @Test("an integer option rejects anything but an integer")
    func integers() throws {
        #expect(try listing(["--max-depth", "3"]).maxDepth == 3)
        #expect(try listing([]).maxDepth == nil)
        let error = usageError { try listing(["--max-depth", "x"]) }
        #expect(error?.code == .invalidValue)
        #expect(error?.reason == "--max-depth expects an integer, got 'x'")
        for text in ["", "3.5", "1e3", "99999999999999999999", " 3"] {
            #expect(usageError { try listing(["--max-depth=\(text)"]) }?.code == .invalidValue, "\(text)")
        }
    }
}
