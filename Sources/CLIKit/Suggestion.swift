/// "Did you mean …?" for mistyped option, subcommand and choice names.
enum Suggestion {
    /// The candidate closest to `text` within two edits, if any; ties go to the earlier candidate.
    ///
    /// A candidate is only suggested when fewer edits than its length separate it from the text, so that
    /// `--ab` does not suggest `--cn`.
    static func closest(to text: String, among candidates: [String], maxDistance: Int = 2) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            guard let distance = editDistance(text, candidate, limit: maxDistance),
                distance < candidate.count,
                distance < (best?.distance ?? Int.max)
            else { continue }
            best = (candidate, distance)
        }
        return best?.candidate
    }

    /// The Levenshtein distance between `a` and `b` in characters, or `nil` when it exceeds `limit`.
    ///
    /// Gives up before building any table when the lengths alone differ by more than `limit`, so comparing a
    /// megabyte of input with an option name costs only as much as the option name.
    static func editDistance(_ a: String, _ b: String, limit: Int) -> Int? {
        let (shorter, longer) = a.utf8.count <= b.utf8.count ? (a, b) : (b, a)
        guard longer.dropFirst(shorter.count + limit).isEmpty else { return nil }
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) <= limit ? max(a.count, b.count) : nil }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }
}
