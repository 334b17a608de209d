import Testing
@testable import StrataTemplates

@Test func variableSlotsRenderAsWildcards() {
    let template = Template(tokens: ["Connection", "to", nil, "refused"])
    #expect(template.text == "Connection to <*> refused")
}
