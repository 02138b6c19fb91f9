export * from "./Errors.js"
export * from "./Post.js"
