import Foundation
import XCTest
import TestSupport
import TLSFuzz

/// Every committed corpus file (seeds and regressions) through every fuzz
/// target: each must return normally. The property fuzzed is "a specific
/// error, never a crash", so a trap here fails the whole test process.
final class CorpusReplayTests: XCTestCase {
    static let corpus = vectorURL("corpus")

    func corpusFiles(_ sub: String) -> [URL] {
        let dir = CorpusReplayTests.corpus.appendingPathComponent(sub)
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return e.compactMap { $0 as? URL }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.path < $1.path }
    }

    func testEveryTargetHasASeedCorpus() {
        for t in FuzzTargets.all {
            XCTAssertFalse(corpusFiles(t.name).isEmpty, "no seed corpus for \(t.name)")
        }
    }

    func testRegressionsReplayThroughEveryTarget() {
        // Inputs that once crashed, hung or ran out of memory (Vectors/corpus/regressions/README.md).
        replay(corpusFiles("regressions"))
    }

    func testSeedCorporaReplayThroughEveryTarget() {
        for t in FuzzTargets.all { replay(corpusFiles(t.name)) }
    }

    func testDegenerateInputs() {
        for t in FuzzTargets.all {
            for input: [UInt8] in [[], [0], [0xff], [UInt8](repeating: 0, count: 300), [UInt8](repeating: 0xff, count: 300)] {
                t.run(input)
            }
        }
    }

    func testTargetNamesAreUniqueAndHaveCorpusDirectories() {
        XCTAssertEqual(Set(FuzzTargets.all.map(\.name)).count, FuzzTargets.all.count)
        XCTAssertNotNil(FuzzTargets.named("server"))
        XCTAssertNotNil(FuzzTargets.named("client"))
    }

    private func replay(_ files: [URL]) {
        for url in files {
            guard let data = try? Data(contentsOf: url) else { XCTFail("cannot read \(url.path)"); continue }
            for t in FuzzTargets.all { t.run(Array(data)) }
        }
    }
}
