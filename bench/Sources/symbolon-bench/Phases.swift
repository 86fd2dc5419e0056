import COpenSSL
import Foundation
import PrivateCA
import X509

/// `symbolon-bench phases`: the cost of each step of one issuance, single-threaded, in µs per certificate, next to
/// the raw ECDSA P-256 sign and verify that `openssl speed` measures.
///
/// The machine is shared, so the steps are interleaved: every round runs every step in turn, and each step reports
/// its best round (the one least disturbed by other processes). Steps that OpenSSL could answer from a per-object
/// cache run on a fresh certificate each time (each `sign` step keeps what it made for the steps after it).
struct PhaseBenchmark {
    let count: Int
    let parent: String?
    let rounds = 10

    final class Step {
        let key: String
        let name: String
        let note: String
        /// Certificates per call (64 for a batch call).
        let perCall: Double
        let calls: Int
        let body: (Int) throws -> Void
        var best = Double.infinity
        var next = 0

        init(
            _ key: String, _ name: String, _ note: String, perCall: Double, calls: Int,
            _ body: @escaping (Int) throws -> Void
        ) {
            self.key = key
            self.name = name
            self.note = note
            self.perCall = perCall
            self.calls = calls
            self.body = body
        }
    }

    final class Pool<Value> {
        var items: [Value] = []
    }

    func run() throws {
        let scratch = try ScratchDirectory(parent: parent)
        defer { scratch.remove() }
        let authority = try BenchCA.create(in: scratch.path, name: "ca")
        let root = authority.root
        let intermediate = authority.intermediate
        let issuerKey = try PrivateKey(
            pemEncoded: String(contentsOfFile: authority.directory.intermediateKey, encoding: .utf8))
        let rawKey = try RawOpenSSL.privateKey(pemFile: authority.directory.intermediateKey)
        let keys = try BenchCA.subjectKeys(4)
        let now = Date()
        let policy = VerificationPolicy(time: now, purpose: .client)
        let verifier = ChainVerifier(trustRoots: [root])
        let perRound = max(count / rounds, 4)
        let batchesPerRound = max(perRound / 64, 1)
        var steps: [Step] = []
        func step(
            _ key: String, _ name: String, _ note: String, perCall: Double = 1, calls: Int? = nil,
            _ body: @escaping (Int) throws -> Void
        ) {
            steps.append(Step(key, name, note, perCall: perCall, calls: calls ?? perRound, body))
        }

        print(
            "symbolon-bench phases: \(rounds) interleaved rounds of \(perRound) certificates per step (best round shown), "
                + "single thread, ECDSA P-256 intermediate")

        // Raw primitives, as `openssl speed ecdsap256` measures them.
        let digest = Digest.sha256(Array("symbolon".utf8))
        let signature = RawOpenSSL.signDigest(rawKey.pointer, digest)
        guard RawOpenSSL.verifyDigest(rawKey.pointer, digest, signature) else { throw BenchError("raw verify failed") }
        guard let signContext = EVP_PKEY_CTX_new(rawKey.pointer, nil), EVP_PKEY_sign_init(signContext) == 1 else {
            throw BenchError("EVP_PKEY_sign_init failed")
        }
        defer { EVP_PKEY_CTX_free(signContext) }
        step("sign", "ECDSA P-256 sign (raw EVP_PKEY_sign)", "as openssl speed signs: context set up once") { _ in
            _ = RawOpenSSL.signDigest(context: signContext, digest)
        }
        guard let verifyContext = EVP_PKEY_CTX_new(rawKey.pointer, nil), EVP_PKEY_verify_init(verifyContext) == 1 else {
            throw BenchError("EVP_PKEY_verify_init failed")
        }
        defer { EVP_PKEY_CTX_free(verifyContext) }
        step("verify", "ECDSA P-256 verify (raw EVP_PKEY_verify)", "as openssl speed verifies") { _ in
            _ = EVP_PKEY_verify(verifyContext, signature, signature.count, digest, digest.count)
        }

        // The steps of CertificateAuthority.issue, one by one, as prepare() and sign() do them.
        func builder(_ i: Int) throws -> CertificateBuilder {
            let id = try SPIFFEID("spiffe://\(BenchCA.trustDomain)/w/\(i)")
            var builder = CertificateBuilder(
                subject: DistinguishedName([("O", authority.configuration.name)]), publicKey: keys[i % keys.count],
                notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(86_400 - Double(i % 1000)))
            builder.basicConstraints = BasicConstraints(isCA: false)
            builder.keyUsage = [.digitalSignature]
            builder.extendedKeyUsage = [.serverAuth, .clientAuth]
            builder.subjectAlternativeNames = [.uri(id.description)]
            return builder
        }
        let builders = Pool<CertificateBuilder>()
        let leaves = Pool<Certificate>()
        step("prepare", "1 prepare: request → CertificateBuilder", "names, profile, lifetime") { _ in
            builders.items.append(try builder(builders.items.count))
        }
        step("builder_sign", "2 CertificateBuilder.sign", "X509 build, extensions, X509_sign, parse into Certificate") {
            i in
            leaves.items.append(try builders.items[i].sign(issuer: intermediate, issuerKey: issuerKey))
        }
        let leafX509 = try RawOpenSSL.x509(der: try builder(0).sign(issuer: intermediate, issuerKey: issuerKey).der)
        step("x509_sign", "   of which X509_sign", "encode TBS, SHA-256, ECDSA sign") { _ in
            X509_sign(leafX509.pointer, rawKey.pointer, EVP_sha256())
        }
        // X509_set_pubkey releases the key the certificate held, so the key comes from a certificate kept apart.
        let sampleDER = try builder(99).sign(issuer: intermediate, issuerKey: issuerKey).der
        let scratchX509 = try RawOpenSSL.x509(der: sampleDER)
        let keyHolder = try RawOpenSSL.x509(der: sampleDER)
        guard let providerKey = X509_get0_pubkey(keyHolder.pointer) else { throw BenchError("no public key") }
        step(
            "set_pubkey_provider", "   X509_set_pubkey, provider-native key",
            "ENCODER + DECODER; 1× per issuance before 168e807"
        ) { _ in
            withExtendedLifetime(keyHolder) { _ = X509_set_pubkey(scratchX509.pointer, providerKey) }
        }
        step("i2d_pubkey", "   i2d_PUBKEY, provider-native key", "OSSL_ENCODER; 4× per issuance before 168e807") { _ in
            var out: UnsafeMutablePointer<UInt8>?
            let n = withExtendedLifetime(keyHolder) { i2d_PUBKEY(providerKey, &out) }
            if n > 0, let out { CRYPTO_free(out, #file, #line) }
        }
        // What sign() has used since 168e807: the relying parties' verifier, anchored at the checked intermediate.
        let anchored: ChainVerifier
        switch verifier.anchored(at: intermediate, checkedAt: now) {
        case .success(let made): anchored = made
        case .failure(let failure): throw BenchError("the intermediate does not verify: \(failure.reason)")
        }
        step("selfcheck", "3 self-check: anchored ChainVerifier", "as sign() calls it, fresh leaf") { i in
            if case .failure(let failure) = anchored.verify(leaf: leaves.items[i], policy: policy) {
                throw BenchError("self-check failed: \(failure.reason)")
            }
        }
        step("selfcheck_full", "   a full-chain ChainVerifier instead", "from the root, as before 168e807") { i in
            if case .failure(let failure) = verifier.verify(
                leaf: leaves.items[i], intermediates: [intermediate], policy: policy)
            {
                throw BenchError("full-chain check failed: \(failure.reason)")
            }
        }
        let intermediateX509 = try RawOpenSSL.x509(der: intermediate.der)
        let rootX509 = try RawOpenSSL.x509(der: root.der)
        step("leaf_verify", "   X509_verify(leaf)", "1 ECDSA verify by the intermediate: the point") { _ in
            _ = X509_verify(leafX509.pointer, X509_get0_pubkey(intermediateX509.pointer))
        }
        step(
            "intermediate_verify", "   X509_verify(intermediate)",
            "by the root; per issuance before 168e807"
        ) { _ in
            _ = X509_verify(intermediateX509.pointer, X509_get0_pubkey(rootX509.pointer))
        }
        step(
            "root_rewrap", "   Certificate(root) parse",
            "d2i + X509_self_signed(x, 1) verify; per issuance before 168e807"
        ) { _ in
            _ = try Certificate(der: root.der)
        }
        step("d2i_x509", "   DECODER: d2i_X509 (any certificate parse)", "OSSL_DECODER for the SPKI") { _ in
            _ = try RawOpenSSL.x509(der: intermediate.der)
        }
        step("record", "4 CertificateRecord", "subject, names, SHA-256 fingerprint, DER copy") { i in
            let leaf = leaves.items[i]
            _ = CertificateRecord(
                serial: leaf.serial, profile: "service", subject: leaf.subject.description,
                spiffeID: leaf.spiffeID?.description,
                subjectAlternativeNames: leaf.subjectAlternativeNames.map(\.description),
                notBefore: leaf.notBefore, notAfter: leaf.notAfter, issuedAt: now,
                fingerprintSHA256: leaf.fingerprintSHA256.hexString, der: Data(leaf.der))
        }
        let sharedFormatter = ISO8601DateFormatter()
        step("audit_shared", "5 audit event, one formatter per call", "as issue() does since 168e807") { _ in
            _ = AuditEvent(
                time: now, action: "certificate.issue", actor: "bench", serial: "00",
                details: ["profile": "service", "notAfter": sharedFormatter.string(from: now)])
        }
        step("audit", "   audit event, a new ISO8601DateFormatter", "per certificate before 168e807") { _ in
            _ = AuditEvent(
                time: now, action: "certificate.issue", actor: "bench", serial: "00",
                details: ["profile": "service", "notAfter": ISO8601DateFormatter().string(from: now)])
        }

        step("json", "   JSON: the store's two JSONEncoders per row", "names and audit details, inside step 6") { _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            _ = try encoder.encode(["URI:spiffe://bench.internal/w/1"])
            let second = JSONEncoder()
            second.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            _ = try second.encode([
                "profile": "service", "subject": "O=Symbolon Bench", "names": "URI:spiffe://bench.internal/w/1",
                "notAfter": "2026-01-01T00:00:00Z",
            ])
        }

        // The store on its own: same schema, pragmas and code as the CA's, in a separate file.
        let store = try SQLiteCertificateStore(path: scratch.path + "/store-only.db", createIfMissing: true)
        let sample = try builder(1).sign(issuer: intermediate, issuerKey: issuerKey)
        func records(_ n: Int) -> ([CertificateRecord], [AuditEvent]) {
            var made: [CertificateRecord] = []
            var events: [AuditEvent] = []
            for _ in 0..<n {
                let serial = CertificateBuilder.randomSerial().hexString
                made.append(
                    CertificateRecord(
                        serial: serial, profile: "service", subject: sample.subject.description,
                        spiffeID: sample.spiffeID?.description,
                        subjectAlternativeNames: sample.subjectAlternativeNames.map(\.description),
                        notBefore: sample.notBefore, notAfter: sample.notAfter, issuedAt: now,
                        fingerprintSHA256: sample.fingerprintSHA256.hexString, der: Data(sample.der)))
                events.append(
                    AuditEvent(
                        time: now, action: "certificate.issue", actor: "bench", serial: serial,
                        details: ["profile": "service", "subject": sample.subject.description]))
            }
            return (made, events)
        }
        let singles = (0..<(perRound * (rounds + 1))).map { _ in records(1) }
        step("commit1", "6 store.insert, 1 per transaction", "an fsync'd commit per certificate (batch=1)") { i in
            try store.insert(singles[i].0, audit: singles[i].1)
        }
        let batches = (0..<(batchesPerRound * (rounds + 1))).map { _ in records(64) }
        step(
            "commit64", "6 store.insert, 64 per transaction", "group commit, per certificate", perCall: 64,
            calls: batchesPerRound
        ) { i in
            try store.insert(batches[i].0, audit: batches[i].1)
        }

        // End to end, single-threaded.
        var next = 0
        func batch(_ n: Int) -> [IssuanceRequest] {
            defer { next += n }
            return (next..<next + n).map { BenchCA.request($0, keys: keys) }
        }
        step(
            "issue64", "issue(batch of 64), end to end", "per certificate, 1 thread", perCall: 64,
            calls: batchesPerRound
        ) { _ in
            _ = try authority.issue(batch(64), now: Date())
        }

        // The proposal, piece by piece (Prototype.swift), each on fresh certificates.
        let selfCheck = try IssuerSelfCheck(root: root, intermediate: intermediate)
        let legacyKeys = try keys.map { try LegacyPublicKey($0) }
        func fastLeafTemplate(_ key: LegacyPublicKey, prepared: ProfileExtensions? = nil, serial: [UInt8]? = nil) throws
            -> OpenSSLBox
        {
            var template = LeafTemplate(
                organization: authority.configuration.name, spiffeID: "spiffe://\(BenchCA.trustDomain)/w/same",
                subjectKey: key, notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(86_000))
            if let serial { template.serial = serial }
            return try FastLeafSigner.sign(
                template, issuer: intermediateX509.pointer, issuerKey: rawKey.pointer, prepared: prepared)
        }
        let fastLeaves = Pool<OpenSSLBox>()
        step("set_pubkey_legacy", "P X509_set_pubkey, legacy EC key", "same SPKI via ameth->pub_encode") { i in
            X509_set_pubkey(scratchX509.pointer, legacyKeys[i % legacyKeys.count].key.pointer)
        }
        step("i2d_x509_pubkey", "P i2d_X509_PUBKEY(cert's own SPKI)", "same bytes as i2d_PUBKEY, no encoder") { _ in
            var out: UnsafeMutablePointer<UInt8>?
            let n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leafX509.pointer), &out)
            if n > 0, let out { CRYPTO_free(out, #file, #line) }
        }
        step("fast_sign", "P build + sign, legacy subject key", "CertificateBuilder's calls, fresh leaf") { i in
            let template = LeafTemplate(
                organization: authority.configuration.name, spiffeID: "spiffe://\(BenchCA.trustDomain)/w/\(i)",
                subjectKey: legacyKeys[i % legacyKeys.count], notBefore: now.addingTimeInterval(-60),
                notAfter: now.addingTimeInterval(86_000))
            fastLeaves.items.append(
                try FastLeafSigner.sign(template, issuer: intermediateX509.pointer, issuerKey: rawKey.pointer))
        }
        let templateLeaf = try fastLeafTemplate(legacyKeys[0])
        let profileExtensions = try withExtendedLifetime(templateLeaf) {
            try ProfileExtensions(from: templateLeaf.pointer)
        }
        let leanLeaves = Pool<OpenSSLBox>()
        step("lean_sign", "P … and fixed extensions encoded once", "BC, KU, EKU, AKID per profile; SKID per key") { i in
            let template = LeafTemplate(
                organization: authority.configuration.name, spiffeID: "spiffe://\(BenchCA.trustDomain)/w/\(i)",
                subjectKey: legacyKeys[i % legacyKeys.count], notBefore: now.addingTimeInterval(-60),
                notAfter: now.addingTimeInterval(86_000))
            leanLeaves.items.append(
                try FastLeafSigner.sign(
                    template, issuer: intermediateX509.pointer, issuerKey: rawKey.pointer, prepared: profileExtensions))
        }
        step("fast_fields", "P read the leaf's fields", "Certificate(owning:) minus the key re-encode") { i in
            _ = try FastLeafSigner.recordFields(fastLeaves.items[i].pointer)
        }
        step("proposed_selfcheck", "P self-check, store built once", "partial chain, intermediate as anchor") { i in
            if let failure = selfCheck.check(
                leaf: fastLeaves.items[i].pointer, time: now, purpose: X509_PURPOSE_SSL_CLIENT)
            {
                throw BenchError("proposed self-check failed: \(failure)")
            }
        }
        // The fast builders must produce what CertificateBuilder produces: same to-be-signed bytes for the same
        // serial, times and key (signatures differ, ECDSA being randomised).
        do {
            let serial = CertificateBuilder.randomSerial()
            var reference = try builder(0)
            reference.serial = serial
            reference.publicKey = keys[1]
            reference.subjectAlternativeNames = [.uri("spiffe://\(BenchCA.trustDomain)/w/same")]
            reference.notBefore = now.addingTimeInterval(-60)
            reference.notAfter = now.addingTimeInterval(86_000)
            func tbs(_ box: OpenSSLBox) -> [UInt8] { withExtendedLifetime(box) { FastLeafSigner.tbs(box.pointer) } }
            let expected = tbs(try RawOpenSSL.x509(der: reference.sign(issuer: intermediate, issuerKey: issuerKey).der))
            let fast = tbs(try fastLeafTemplate(legacyKeys[1], serial: serial))
            let lean = tbs(try fastLeafTemplate(legacyKeys[1], prepared: profileExtensions, serial: serial))
            guard !expected.isEmpty, fast == expected, lean == expected else {
                throw BenchError(
                    "the prototype's leaf differs from CertificateBuilder's (TBS \(expected.count)/\(fast.count)/\(lean.count) bytes)"
                )
            }
            print("prototype leaves: to-be-signed bytes identical to CertificateBuilder's ✓")
        }
        let prototypeAuthority = try BenchCA.create(in: scratch.path, name: "ca-prototype")
        let prototype = try PrototypeIssuer(authority: prototypeAuthority, keys: keys)
        step(
            "prototype64", "P prototype issue(batch of 64)", "per certificate, 1 thread", perCall: 64,
            calls: batchesPerRound
        ) { _ in
            _ = try prototype.issue(batch(64), now: Date())
        }
        let signingContext = try SigningContext(issuerKey: rawKey.pointer)
        step("x509_sign_ctx", "C X509_sign_ctx, context set up once", "instead of X509_sign's per-call fetches") { _ in
            try signingContext.sign(leafX509.pointer)
        }
        step("iso_manual", "C audit date without a formatter", "gmtime_r and digits") { _ in
            _ = iso8601UTC(now)
        }
        guard iso8601UTC(now) == sharedFormatter.string(from: now) else {
            throw BenchError(
                "iso8601UTC disagrees with ISO8601DateFormatter: \(iso8601UTC(now)) vs \(sharedFormatter.string(from: now))"
            )
        }
        step("der_only", "C only the DER read back", "fields from the builder's own values") { i in
            _ = try FastLeafSigner.der(fastLeaves.items[i].pointer)
        }
        let prototypeAC = try PrototypeIssuer(authority: prototypeAuthority, keys: keys, tiers: PrototypeTiers("AC")!)
        step(
            "prototype_ac64", "C prototype issue(batch of 64)", "tiers A + C, per certificate, 1 thread",
            perCall: 64, calls: batchesPerRound
        ) { _ in
            _ = try prototypeAC.issue(batch(64), now: Date())
        }

        // The proposed checks must refuse what the current one refuses.
        try checkRefusals(
            root: root, intermediate: intermediate, issuerKey: issuerKey, selfCheck: selfCheck, keys: keys)

        // Warm-up round (not counted), then the measured rounds.
        for round in 0...rounds {
            for step in steps {
                let start = nanoseconds()
                for _ in 0..<step.calls {
                    try step.body(step.next)
                    step.next += 1
                }
                let perCertificate = Double(nanoseconds() - start) / 1e3 / Double(step.calls) / step.perCall
                if round > 0 { step.best = min(step.best, perCertificate) }
            }
        }

        var value: [String: Double] = [:]
        for step in steps { value[step.key] = step.best }
        let sign = value["sign"]!
        let width = steps.map(\.name.count).max() ?? 40
        for step in steps {
            let name = step.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print(
                "\(name)  \(format(step.best, 1).leftPadded(8)) µs  \(format(step.best / sign, 2).leftPadded(6)) × sign   \(step.note)"
            )
        }
        let v = { (key: String) in value[key]! }
        let accounted =
            v("prepare") + v("builder_sign") + v("selfcheck") + v("record") + v("audit_shared") + v("commit64")
        print("")
        print(
            "CertificateAuthority.issue today: sum of steps 1–6 (batch 64, one formatter per call): \(format(accounted, 0)) µs; end to end: \(format(v("issue64"), 0)) µs "
                + "→ \(format(1e6 / v("issue64"), 0)) certificates/s per core = \(format(sign / v("issue64"), 3)) of the sign rate"
        )
        print(
            "before 168e807 one issuance also ran OpenSSL 3.0's encoder/decoder (1 X509_set_pubkey + 4 i2d_PUBKEY + "
                + "1 d2i ≈ \(format(v("set_pubkey_provider") + 4 * v("i2d_pubkey") + v("d2i_x509"), 0)) µs), 3 ECDSA "
                + "verifies instead of 1 (+\(format(2 * v("leaf_verify"), 0)) µs) and a new ISO8601DateFormatter "
                + "(+\(format(v("audit") - v("audit_shared"), 0)) µs)")
        print(
            "tier A prototype: build+sign \(format(v("lean_sign"), 0)) µs (CertificateBuilder.sign: "
                + "\(format(v("builder_sign"), 0))), self-check \(format(v("proposed_selfcheck"), 0)) µs (anchored "
                + "ChainVerifier: \(format(v("selfcheck"), 0))); end to end "
                + "\(format(v("prototype64"), 0)) µs → \(format(1e6 / v("prototype64"), 0)) certificates/s per core = "
                + "\(format(sign / v("prototype64"), 3)) of the sign rate")
        print(
            "tiers A+C: end to end \(format(v("prototype_ac64"), 0)) µs → \(format(1e6 / v("prototype_ac64"), 0)) "
                + "certificates/s per core = \(format(sign / v("prototype_ac64"), 3)) of the sign rate")
        print("PHASES " + steps.map { "\($0.key)_us=\(format($0.best, 2))" }.joined(separator: " "))
    }

    /// A leaf outside the intermediate's name constraints, and a leaf checked after it expired, must be refused by
    /// both the current self-check and the proposed one.
    private func checkRefusals(
        root: Certificate, intermediate: Certificate, issuerKey: PrivateKey, selfCheck: IssuerSelfCheck,
        keys: [PublicKey]
    ) throws {
        let now = Date()
        var outside = CertificateBuilder(
            subject: DistinguishedName([("O", "Symbolon Bench")]), publicKey: keys[0],
            notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(3600))
        outside.basicConstraints = BasicConstraints(isCA: false)
        outside.keyUsage = [.digitalSignature]
        outside.extendedKeyUsage = [.serverAuth, .clientAuth]
        outside.subjectAlternativeNames = [.uri("spiffe://elsewhere.internal/w/1")]
        let bad = try outside.sign(issuer: intermediate, issuerKey: issuerKey)
        let badX509 = try RawOpenSSL.x509(der: bad.der)
        let verifier = ChainVerifier(trustRoots: [root])
        let later = now.addingTimeInterval(7200)
        var good = outside
        good.subjectAlternativeNames = [.uri("spiffe://\(BenchCA.trustDomain)/w/1")]
        let goodLeaf = try good.sign(issuer: intermediate, issuerKey: issuerKey)
        let goodX509 = try RawOpenSSL.x509(der: goodLeaf.der)
        // A leaf whose signature was made by a different key (a faulty or substituted signer).
        let strangerKey = try PrivateKey.generate(.ecdsaP256)
        var forged = try RawOpenSSL.x509(der: goodLeaf.der)
        let strangerRaw = try RawOpenSSL.privateKey(pem: Array(try strangerKey.pemEncoded().utf8))
        X509_sign(forged.pointer, strangerRaw.pointer, EVP_sha256())
        forged = try RawOpenSSL.x509(der: derOf(forged.pointer))

        defer { withExtendedLifetime((badX509, goodX509, forged, strangerRaw)) {} }
        let current: [(String, Bool)] = [
            (
                "outside the trust domain",
                verifier.verify(leaf: bad, intermediates: [intermediate], policy: .init(time: now, purpose: .client))
                    .isFailure
            ),
            (
                "expired",
                verifier.verify(
                    leaf: goodLeaf, intermediates: [intermediate], policy: .init(time: later, purpose: .client)
                ).isFailure
            ),
            (
                "signed by another key",
                verifier.verify(
                    leaf: try Certificate(der: derOf(forged.pointer)), intermediates: [intermediate],
                    policy: .init(time: now, purpose: .client)
                ).isFailure
            ),
        ]
        let proposed: [(String, Bool)] = [
            (
                "outside the trust domain",
                selfCheck.check(leaf: badX509.pointer, time: now, purpose: X509_PURPOSE_SSL_CLIENT) != nil
            ),
            ("expired", selfCheck.check(leaf: goodX509.pointer, time: later, purpose: X509_PURPOSE_SSL_CLIENT) != nil),
            (
                "signed by another key",
                selfCheck.check(leaf: forged.pointer, time: now, purpose: X509_PURPOSE_SSL_CLIENT) != nil
            ),
        ]
        guard selfCheck.check(leaf: goodX509.pointer, time: now, purpose: X509_PURPOSE_SSL_CLIENT) == nil else {
            throw BenchError("the proposed self-check refuses a good certificate")
        }
        // A signature with one bit of s flipped (a faulty signer) must be refused too.
        let faulty = try RawOpenSSL.x509(der: flipSignatureBit(goodLeaf.der))
        defer { withExtendedLifetime(faulty) {} }
        let faultyRefused = (
            verifier.verify(
                leaf: try Certificate(der: flipSignatureBit(goodLeaf.der)), intermediates: [intermediate],
                policy: .init(time: now, purpose: .client)
            ).isFailure,
            selfCheck.check(leaf: faulty.pointer, time: now, purpose: X509_PURPOSE_SSL_CLIENT) != nil
        )
        guard faultyRefused == (true, true) else {
            throw BenchError("a faulty signature was accepted: \(faultyRefused)")
        }
        for ((what, currentRefused), (_, proposedRefused)) in zip(current, proposed) {
            guard currentRefused, proposedRefused else {
                throw BenchError(
                    "a leaf \(what): current check refused=\(currentRefused), proposed=\(proposedRefused)")
            }
        }
        // The CA's own self-check since 168e807: the verifier anchored at the intermediate.
        guard case .success(let anchored) = verifier.anchored(at: intermediate, checkedAt: now) else {
            throw BenchError("the intermediate does not verify against the root")
        }
        let anchoredResults = [
            anchored.verify(leaf: bad, policy: .init(time: now, purpose: .client)).isFailure,
            anchored.verify(leaf: goodLeaf, policy: .init(time: later, purpose: .client)).isFailure,
            anchored.verify(
                leaf: try Certificate(der: derOf(forged.pointer)), policy: .init(time: now, purpose: .client)
            )
            .isFailure,
            anchored.verify(
                leaf: try Certificate(der: flipSignatureBit(goodLeaf.der)), policy: .init(time: now, purpose: .client)
            )
            .isFailure,
            !anchored.verify(leaf: goodLeaf, policy: .init(time: now, purpose: .client)).isFailure,
        ]
        guard anchoredResults.allSatisfy({ $0 }) else {
            throw BenchError("the anchored ChainVerifier (the CA's self-check) got one wrong: \(anchoredResults)")
        }
        print(
            "refusals: the full-chain and anchored ChainVerifiers and the prototype's check all refuse a leaf outside "
                + "the trust domain, an expired leaf, a signature by another key and a signature with one bit flipped; "
                + "all accept a good leaf ✓"
        )
        print("")
    }
}

/// The certificate with the last byte of its signature value flipped (a faulty signer's output).
private func flipSignatureBit(_ der: [UInt8]) -> [UInt8] {
    var copy = der
    copy[copy.count - 1] ^= 0x01
    return copy
}

private func derOf(_ x509: OpaquePointer) -> [UInt8] {
    let length = i2d_X509(x509, nil)
    var bytes = [UInt8](repeating: 0, count: Int(max(length, 0)))
    bytes.withUnsafeMutableBufferPointer { buffer in
        var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
        _ = i2d_X509(x509, &cursor)
    }
    return bytes
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
