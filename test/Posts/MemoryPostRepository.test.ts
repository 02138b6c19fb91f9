import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { postRepositoryContract } from "./PostRepositoryContract.js"

postRepositoryContract("memory", MemoryPostRepository.layer)
