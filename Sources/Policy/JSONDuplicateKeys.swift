import Foundation

/// Finds a key repeated within one JSON object. `JSONDecoder` keeps one of the values silently, and in a policy
/// that could drop a condition, so the policy refuses such documents. Run only on JSON that has already parsed.
enum JSONDuplicateKeys {
    private struct Frame {
        let path: String
        let isObject: Bool
        var keys: Set<String> = []
        var expectingKey: Bool
        var lastKey = ""
        var index = 0
    }

    /// The JSON path of the object (empty for the top level) and the first key it repeats, or nil.
    static func first(in json: Data) -> (path: String, key: String)? {
        let bytes = [UInt8](json)
        var stack: [Frame] = []
        var position = 0
        func childPath() -> String {
            guard let top = stack.last else { return "" }
            if top.isObject { return top.path.isEmpty ? top.lastKey : "\(top.path).\(top.lastKey)" }
            return "\(top.path)[\(top.index)]"
        }
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = byte == UInt8(ascii: "{")
                stack.append(Frame(path: childPath(), isObject: isObject, expectingKey: isObject))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
            case UInt8(ascii: ","):
                if stack.last?.isObject == true { stack[stack.count - 1].expectingKey = true }
                if stack.last?.isObject == false { stack[stack.count - 1].index += 1 }
            case UInt8(ascii: "\""):
                let start = position + 1
                position = start
                while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                    position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                }
                if let top = stack.last, top.isObject, top.expectingKey {
                    let key = decodeString(bytes[start..<min(position, bytes.count)])
                    if top.keys.contains(key) { return (top.path, key) }
                    stack[stack.count - 1].keys.insert(key)
                    stack[stack.count - 1].lastKey = key
                    stack[stack.count - 1].expectingKey = false
                }
            default:
                break
            }
            position += 1
        }
        return nil
    }

    /// The string a JSON string literal's body stands for (escapes resolved).
    private static func decodeString(_ body: ArraySlice<UInt8>) -> String {
        guard body.contains(UInt8(ascii: "\\")) else { return String(decoding: body, as: UTF8.self) }
        let literal = Data([UInt8(ascii: "\"")] + body + [UInt8(ascii: "\"")])
        return (try? JSONDecoder().decode(String.self, from: literal)) ?? String(decoding: body, as: UTF8.self)
    }
}
