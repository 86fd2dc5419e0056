import Foundation
import X509

extension CertificateAuthority {
    /// notBefore is set this far in the past, so peers with slightly slow clocks accept a fresh certificate.
    public static let backdating: TimeInterval = 60

    /// Issues one certificate: checks the request against its profile and the trust domain, signs, verifies the
    /// result with the same verifier relying parties use, and records it durably before returning.
    public func issue(
        _ request: IssuanceRequest, now: Date = Date(), beforeCommit: ([IssuedCertificate]) throws -> Void = { _ in }
    ) throws -> IssuedCertificate {
        try issue([request], now: now, beforeCommit: beforeCommit)[0]
    }

    /// Issues several certificates and records them in one transaction (group commit): all or none.
    ///
    /// `beforeCommit` runs after signing and before recording: if it throws, nothing is recorded. Use it to stage
    /// output files (`SecureFile.stage`), so a failed write cannot leave a recorded certificate without its file.
    public func issue(
        _ requests: [IssuanceRequest], now: Date = Date(), beforeCommit: ([IssuedCertificate]) throws -> Void = { _ in }
    ) throws -> [IssuedCertificate] {
        var prepared = try requests.map { try prepare($0, now: now) }
        let timestamps = ISO8601DateFormatter()  // one per call: making one costs more than signing
        for attempt in 0..<3 {
            let issued = try prepared.map { try sign($0, now: now) }
            let events = issued.map { item in
                audit(
                    "certificate.issue", serial: item.record.serial,
                    details: [
                        "profile": item.record.profile, "subject": item.record.subject,
                        "names": item.record.subjectAlternativeNames.joined(separator: ","),
                        "notAfter": timestamps.string(from: item.record.notAfter),
                    ], at: now)
            }
            try beforeCommit(issued)
            do {
                try store.insert(issued.map(\.record), audit: events)
                return issued
            } catch let error as StoreError where error.code == .duplicateSerial && attempt < 2 {
                // 127 random bits make this practically impossible; if it happens, sign again with fresh serials.
                for index in prepared.indices { prepared[index].builder.serial = CertificateBuilder.randomSerial() }
            }
        }
        throw CAError(.selfCheckFailed, "could not find unused serial numbers")
    }

    struct PreparedIssuance {
        var builder: CertificateBuilder
        let profile: CertificateProfile
        let privateKey: PrivateKey?
        let warnings: [String]
    }

    func prepare(_ request: IssuanceRequest, now: Date) throws -> PreparedIssuance {
        let profile = try self.profile(named: request.profile)
        func refuse(_ why: String) -> CAError { CAError(.profileViolation, "profile \"\(profile.name)\": \(why)") }

        // The key, and proof that the requester holds it.
        var request = request
        let publicKey: PublicKey
        var privateKey: PrivateKey?
        switch request.keySource {
        case .csr(let csr):
            try csr.verifySignature()
            publicKey = csr.publicKey
            let namesGiven =
                request.commonName != nil || request.spiffeID != nil || !request.dnsNames.isEmpty
                || !request.ipAddresses.isEmpty || request.email != nil
            if !namesGiven {  // take the names the CSR asks for; they still go through every check below
                request.commonName = csr.subject.commonName
                let uris = csr.subjectAlternativeNames.filter { if case .uri = $0 { true } else { false } }
                let emails = csr.subjectAlternativeNames.filter { if case .email = $0 { true } else { false } }
                guard uris.count <= 1 else {
                    throw refuse(
                        "the CSR asks for \(uris.count) URIs (\(uris.map(\.description).joined(separator: ", "))); a certificate carries one SPIFFE ID (X.509-SVID)"
                    )
                }
                guard emails.count <= 1 else {
                    throw refuse(
                        "the CSR asks for \(emails.count) e-mail addresses (\(emails.map(\.description).joined(separator: ", "))); a certificate carries one"
                    )
                }
                for name in csr.subjectAlternativeNames {
                    switch name {
                    case .dns(let value): request.dnsNames.append(value)
                    case .ipAddress(let value): request.ipAddresses.append(value)
                    case .email(let value): request.email = value
                    case .uri(let value): request.spiffeID = value
                    case .other(let value): throw refuse("the CSR asks for the name \(value), which cannot be issued")
                    }
                }
            }
        case .generate(let algorithm):
            let key = try PrivateKey.generate(algorithm)
            privateKey = key
            publicKey = key.publicKey
        case .publicKey(let key):
            publicKey = key
        }

        if let problem = publicKey.weaknessForIssuance {
            throw refuse("the key is not acceptable: \(problem)")
        }

        // Names: syntax, what the profile allows, and the trust domain.
        var names: [SubjectAlternativeName] = []
        var spiffeID: SPIFFEID?
        if let text = request.spiffeID {
            let id = try SPIFFEID(text)
            guard id.isMember(of: configuration.trustDomain) else {
                throw CAError(
                    .outsideTrustDomain,
                    "the SPIFFE ID \(id) is outside this CA's trust domain \"\(configuration.trustDomain)\"; use spiffe://\(configuration.trustDomain)/…"
                )
            }
            guard !id.path.isEmpty else {
                throw refuse(
                    "the SPIFFE ID \(id) names only the trust domain; a workload's ID needs a path (X.509-SVID 3.1), e.g. \(id)/ns/default/sa/api"
                )
            }
            spiffeID = id
            names.append(.uri(id.description))
        }
        for name in request.dnsNames {
            try SubjectAlternativeName.dns(name).validate()
            if !configuration.dnsConstraints.isEmpty,
                !configuration.dnsConstraints.contains(where: { dnsName(name, isWithin: $0) })
            {
                throw CAError(
                    .outsideTrustDomain,
                    "the DNS name \(name) is outside this CA's DNS constraints (\(configuration.dnsConstraints.joined(separator: ", ")))"
                )
            }
            names.append(.dns(name.lowercased()))
        }
        for address in request.ipAddresses {
            try SubjectAlternativeName.ipAddress(address).validate()
            names.append(.ipAddress(address))
        }
        if let email = request.email {
            try SubjectAlternativeName.email(email).validate()
            names.append(.email(email))
        }
        let present: [CertificateProfile.NameKind: Bool] = [
            .spiffe: spiffeID != nil, .dns: !request.dnsNames.isEmpty, .ip: !request.ipAddresses.isEmpty,
            .email: request.email != nil,
        ]
        for (kind, isPresent) in present.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where isPresent {
            guard profile.allowedNames.contains(kind) else {
                throw refuse(
                    "\(kind) names are not allowed (allowed: \(profile.allowedNames.map(\.rawValue).joined(separator: ", ")))"
                )
            }
        }
        if !profile.requiredNames.isEmpty, !profile.requiredNames.contains(where: { present[$0] == true }) {
            if profile.requiredNames == [.spiffe] {
                throw refuse("a SPIFFE ID is required (--spiffe-id spiffe://\(configuration.trustDomain)/…)")
            }
            throw refuse("a name is required, one of: \(profile.requiredNames.map(\.rawValue).joined(separator: ", "))")
        }

        // Subject.
        var subject: [(String, String)] = [("O", configuration.name)]
        if let cn = request.commonName {
            try validateAttribute("common name", cn, limit: 64)
            subject.append(("CN", cn))
        } else if profile.requiresCommonName {
            throw refuse("a common name is required (--cn)")
        }
        if let serial = request.deviceSerial {
            try validateAttribute("device serial", serial, limit: 64)
            subject.append(("serialNumber", serial))
        } else if profile.requiresDeviceSerial {
            throw refuse("a device serial is required (--device-serial)")
        }

        // Lifetime, capped by the profile and by the intermediate's own expiry.
        let lifetime = request.lifetime ?? profile.defaultLifetime
        guard lifetime >= 60 else { throw refuse("the lifetime must be at least 1 minute") }
        guard lifetime <= profile.maximumLifetime else {
            throw refuse(
                "a lifetime of \(Self.describe(lifetime)) exceeds the profile's maximum of \(Self.describe(profile.maximumLifetime))"
            )
        }
        let jitter = profile.expiryJitter > 0 ? Double.random(in: 0...(profile.expiryJitter * lifetime)) : 0
        var notAfter = now.addingTimeInterval(lifetime - jitter)
        var warnings: [String] = []
        if notAfter > intermediate.notAfter {
            notAfter = intermediate.notAfter
            warnings.append(
                "lifetime shortened: the intermediate CA expires at \(ISO8601DateFormatter().string(from: notAfter)); renew it"
            )
        }

        var builder = CertificateBuilder(
            subject: DistinguishedName(subject), publicKey: publicKey,
            notBefore: now.addingTimeInterval(-Self.backdating), notAfter: notAfter)
        builder.basicConstraints = BasicConstraints(isCA: false)
        builder.keyUsage = profile.keyUsageSet
        builder.extendedKeyUsage = profile.extendedKeyUsages
        builder.subjectAlternativeNames = names
        builder.crlDistributionPoints = configuration.crlURL.map { [$0] } ?? []
        builder.ocspURLs = configuration.ocspURL.map { [$0] } ?? []
        return PreparedIssuance(builder: builder, profile: profile, privateKey: privateKey, warnings: warnings)
    }

    func sign(_ prepared: PreparedIssuance, now: Date) throws -> IssuedCertificate {
        let certificate = try prepared.builder.sign(issuer: intermediate, issuerKey: intermediateKey)
        // The CA checks its own work with the verifier relying parties use: a certificate it would not accept is
        // never recorded or handed out.
        let purpose: VerificationPolicy.Purpose =
            prepared.profile.extendedKeyUsages.contains(.clientAuth) ? .client : .server
        let policy = VerificationPolicy(time: now, purpose: purpose)
        let verifier: ChainVerifier
        switch selfCheck {
        case .success(let anchored): verifier = anchored
        case .failure(let failure):
            throw CAError(.selfCheckFailed, "the intermediate CA does not verify against the root: \(failure.reason)")
        }
        if case .failure(let failure) = verifier.verify(leaf: certificate, policy: policy) {
            throw CAError(.selfCheckFailed, "the certificate would not verify, so it was not issued: \(failure.reason)")
        }
        let record = CertificateRecord(
            serial: certificate.serial, profile: prepared.profile.name, subject: certificate.subject.description,
            spiffeID: certificate.spiffeID?.description,
            subjectAlternativeNames: certificate.subjectAlternativeNames.map(\.description),
            notBefore: certificate.notBefore, notAfter: certificate.notAfter, issuedAt: now,
            fingerprintSHA256: certificate.fingerprintSHA256.hexString, der: Data(certificate.der))
        return IssuedCertificate(
            certificate: certificate, chain: [intermediate], privateKey: prepared.privateKey, record: record,
            warnings: prepared.warnings)
    }

    func dnsName(_ name: String, isWithin constraint: String) -> Bool {
        let name = name.lowercased()
        let constraint = constraint.lowercased()
        return name == constraint || name.hasSuffix("." + constraint)
    }

    func validateAttribute(_ what: String, _ value: String, limit: Int) throws {
        guard !value.isEmpty, value.count <= limit,
            !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw CAError(.profileViolation, "the \(what) must be 1 to \(limit) printable characters") }
    }

    /// `90d`, `24h`, `30m`, `45s`, or combinations (`1d12h`), for messages; at most `units` units, largest first.
    public static func describe(_ interval: TimeInterval, units: Int = 4) -> String {
        // Clamp first: a hostile --lifetime can be far beyond what Int holds.
        var seconds = interval.isFinite ? Int(min(max(interval, 0), 1e15).rounded()) : Int(1e15)
        var parts: [String] = []
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        where seconds >= size && parts.count < units {
            parts.append("\(seconds / size)\(unit)")
            seconds %= size
        }
        return parts.isEmpty ? "0s" : parts.joined()
    }
}
